import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { EVENT_BUS, type EventBus, type Unsubscribe } from '../events/event-bus.js';
import { type IrpSession } from '../transport/irp-session.js';
import { SessionRegistry } from '../transport/session-registry.service.js';
import { toCertificateInfo } from './certificate-records.js';
import { CertificateEntity } from './entities/certificate.entity.js';

/** The event-bus topic of certificate changes that sessions must hear about (spec §6.6, §11). */
export const CERTIFICATE_TOPIC = 'certificate';

/**
 * What happened, as ids only (the receiver reads the current state): `o` is the
 * instance that made the change (it delivers to its own sessions directly).
 */
export type CertificateEvent =
  /** Revoked (`sup`: superseded through `renews` — its SCA sessions stay open, spec §6.6). */
  | { k: 'revoked'; u: string; c: string; s: string; sup?: 1; o: string }
  /** Issued on approval (spec §9 approval mode). */
  | { k: 'issued'; u: string; c: string; o: string }
  /** A pending request was rejected. */
  | { k: 'rejected'; u: string; r: string; o: string };

/** A {@link CertificateEvent} without its origin, as services describe it. */
export type CertificateChange = CertificateEvent extends infer E
  ? E extends CertificateEvent
    ? Omit<E, 'o'>
    : never
  : never;

/**
 * Tells sessions about certificate changes, on every instance of the deployment:
 * `certificate` notifies (spec §11) and the closing of the SCA sessions of a revoked
 * certificate (spec §6.6, reason `revoked`). The instance that made a change
 * delivers to its own sessions right after the commit (so the revoking session
 * itself is closed after its response); the others get it through the event bus.
 */
@Injectable()
export class CertificateEventsService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('CertificateEvents');
  /** This process, to recognise its own events on the bus. */
  readonly instanceId = randomUUID();
  private unsubscribe: Unsubscribe | undefined;
  private readonly listeners: ((event: CertificateEvent) => void)[] = [];
  /** True once this instance hears the other instances' events (its LISTEN is in place). */
  listening = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly sessions: SessionRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(CERTIFICATE_TOPIC, (payload) => {
      let event: CertificateEvent;
      try {
        event = JSON.parse(payload) as CertificateEvent;
      } catch {
        return;
      }
      if (event.o === this.instanceId) return; // delivered directly after the commit
      this.deliver(event).catch((error: unknown) =>
        this.log.error(
          `delivering a certificate event failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    });
    this.listening = true;
  }

  /**
   * Calls `listener` with every certificate change that reaches this instance — its own
   * right after their commit, the others' as their event arrives — before sessions hear
   * of it (caches of certificate state drop it there).
   */
  onEvent(listener: (event: CertificateEvent) => void): void {
    this.listeners.push(listener);
  }

  onModuleDestroy(): void {
    this.listening = false;
    this.unsubscribe?.();
  }

  /** Publishes `change` inside the transaction of `m` (delivered elsewhere after the commit). */
  async publish(m: EntityManager, change: CertificateChange): Promise<CertificateEvent> {
    const event = { ...change, o: this.instanceId } as CertificateEvent;
    await this.bus.publish(m, CERTIFICATE_TOPIC, JSON.stringify(event));
    return event;
  }

  /**
   * Delivers an event to this instance's sessions. `except` (the session that made
   * the change) gets no `certificate` notify — it has its response — but is still
   * closed if it was authenticated by a revoked certificate.
   */
  async deliver(event: CertificateEvent, except?: IrpSession): Promise<void> {
    for (const listener of this.listeners) listener(event);
    if (this.sessions.sessionsOf(event.u).length === 0) return;
    switch (event.k) {
      case 'revoked': {
        const certificate = await this.certificate(event.c);
        if (certificate) {
          this.sessions.notifyUser(
            event.u,
            { event: 'certificate', certificate: toCertificateInfo(certificate, { pem: false }) },
            except,
          );
        }
        if (!event.sup) {
          this.sessions.closeUserSessions(event.u, 'revoked', {
            filter: (s) =>
              s.principal?.method === 'sca' && s.principal.certificateSerial === event.s,
          });
        }
        return;
      }
      case 'issued': {
        const certificate = await this.certificate(event.c);
        if (!certificate) return;
        this.sessions.notifyUser(event.u, {
          event: 'certificate',
          certificate: toCertificateInfo(certificate, { pem: true }),
        });
        return;
      }
      case 'rejected':
        this.sessions.notifyUser(event.u, {
          event: 'certificate',
          request: { id: event.r, status: 'rejected' },
        });
        return;
    }
  }

  private certificate(id: string): Promise<CertificateEntity | null> {
    return this.dataSource.manager.findOne(CertificateEntity, { where: { id } });
  }
}
