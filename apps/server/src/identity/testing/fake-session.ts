import { type Mock, vi } from 'vitest';
import {
  type IrpSession,
  type SessionCloseReason,
  type SessionPrincipal,
} from '../../transport/irp-session.js';

/** A logged-in session as the registry sees it, recording close() calls. */
export function fakeSession(
  principal: SessionPrincipal,
  address = '192.0.2.10',
): IrpSession & { close: Mock<(reason?: SessionCloseReason) => void> } {
  return {
    id: `fake-${Math.random().toString(36).slice(2)}`,
    state: 'authenticated',
    peer: { address, family: 'ipv4', port: 40000 },
    txn: 'T-1',
    principal,
    connectedAt: new Date(),
    authenticate: vi.fn(),
    notify: vi.fn(),
    close: vi.fn<(reason?: SessionCloseReason) => void>(),
    greeting: vi.fn(),
    attributes: new Map(),
  };
}
