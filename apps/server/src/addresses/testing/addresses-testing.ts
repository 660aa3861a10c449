/**
 * Test support (excluded from the build): the address registry with its real
 * dependencies — identity, audit, the event bus — on a fresh database (PostgreSQL
 * when TEST_DATABASE_URL is set, else the embedded one in memory).
 */
import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { type IrpNotify } from '@irp/protocol';
import { DataSource } from 'typeorm';
import { vi } from 'vitest';
import { createTestDatabase } from '../../../../../test/support/test-database.js';
import { type Actor } from '../../audit/actor.js';
import { AuditService } from '../../audit/audit.service.js';
import { ConfigModule } from '../../config/config.module.js';
import { type IrpConfig, loadConfig } from '../../config/config.schema.js';
import { DatabaseModule } from '../../database/database.module.js';
import { EncodedNotify, type IrpSession } from '../../transport/irp-session.js';
import { SessionRegistry } from '../../transport/session-registry.service.js';
import { AddressPurger } from '../address-purger.service.js';
import { type AddressCaller, AddressRegistryService } from '../address-registry.service.js';
import { AddressesModule } from '../addresses.module.js';
import { PresenceHub } from '../presence-hub.service.js';
import { UserCertificatesPort } from '../user-certificates.js';

@Global()
@Module({ providers: [SessionRegistry], exports: [SessionRegistry] })
class TestSessionRegistryModule {}

/** A logged-in session that records its notifies. */
export interface RecordingSession extends IrpSession {
  readonly notifies: IrpNotify[];
  /** Closes it as the transport would (the registry drops its subscriptions). */
  end(): void;
}

export interface TestUser extends AddressCaller {
  /** A new session of this user, known to the session registry. */
  session(address?: string): RecordingSession;
}

export interface AddressesTestContext {
  moduleRef: TestingModule;
  config: IrpConfig;
  dataSource: DataSource;
  registry: AddressRegistryService;
  hub: PresenceHub;
  purger: AddressPurger;
  audit: AuditService;
  sessions: SessionRegistry;
  certificates: UserCertificatesPort;
  /** Creates an active user directly in the directory table. */
  user(userId: string, status?: 'active' | 'disabled'): Promise<TestUser>;
  close(): Promise<void>;
}

let sessionCounter = 0;

/** Starts the addresses module (migrations run) on a fresh database. */
export async function startAddressServices(
  env: Record<string, string> = {},
): Promise<AddressesTestContext> {
  const database = await createTestDatabase();
  const config = loadConfig({
    IRP_DATA_DIR: 'memory',
    IRP_DOMAIN: 'example.com',
    IRP_LOG_LEVEL: 'warn',
    IRP_ADDRESS_PURGE_INTERVAL_MS: '100',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      DatabaseModule,
      TestSessionRegistryModule,
      AddressesModule,
    ],
  }).compile();
  await moduleRef.init();
  const dataSource = moduleRef.get(DataSource);
  const sessions = moduleRef.get(SessionRegistry);

  async function user(userId: string, status: 'active' | 'disabled' = 'active'): Promise<TestUser> {
    const rows: { id: string }[] = await dataSource.query(
      `INSERT INTO irp_user (user_id, status, created_at, updated_at) VALUES ($1, $2, now(), now()) RETURNING id`,
      [userId, status],
    );
    const userKey = rows[0]!.id;
    const address = `${userId}@${config.domain}`;
    const actor: Actor = {
      kind: 'user',
      id: userId,
      authMethod: 'upa',
      sourceAddress: '192.0.2.10',
      txn: 'T-1',
    };
    return {
      userKey,
      userId,
      address,
      actor,
      session(peerAddress = '192.0.2.10') {
        const notifies: IrpNotify[] = [];
        const session: RecordingSession = {
          id: `test-${++sessionCounter}`,
          state: 'authenticated',
          peer: {
            address: peerAddress,
            family: 'ipv4',
            port: 40000 + sessionCounter,
          },
          txn: 'T-1',
          principal: { userKey, userId, address, method: 'upa' },
          connectedAt: new Date(),
          authenticate: vi.fn(),
          notify: (n: IrpNotify | EncodedNotify) => {
            if (session.state !== 'closed')
              notifies.push(n instanceof EncodedNotify ? n.notify : n);
          },
          close: vi.fn(),
          greeting: vi.fn(),
          attributes: new Map(),
          notifies,
          end() {
            (session as { state: string }).state = 'closed';
            sessions.remove(session);
          },
        };
        sessions.add(session);
        sessions.authenticated(session);
        return session;
      },
    };
  }

  return {
    moduleRef,
    config,
    dataSource,
    registry: moduleRef.get(AddressRegistryService),
    hub: moduleRef.get(PresenceHub),
    purger: moduleRef.get(AddressPurger),
    audit: moduleRef.get(AuditService),
    sessions,
    certificates: moduleRef.get(UserCertificatesPort),
    user,
    async close() {
      await moduleRef.close();
      await database.drop();
    },
  };
}

/** Resolves once `predicate` holds, polling (events arrive asynchronously). */
export async function eventually<T>(probe: () => T | undefined | false, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
