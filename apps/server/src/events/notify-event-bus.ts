import { Logger } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import {
  type EventBus,
  MAX_EVENT_PAYLOAD_BYTES,
  type Unsubscribe,
  channelOf,
} from './event-bus.js';

/**
 * The part both PostgreSQL buses share: `pg_notify` inside the caller's transaction
 * (PostgreSQL delivers it only after COMMIT, and drops it on ROLLBACK), and the
 * dispatch of received notifications to the handlers of their topic. Subclasses only
 * say how to LISTEN.
 */
export abstract class NotifyEventBus implements EventBus {
  protected readonly log = new Logger('EventBus');
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  private readonly resetHandlers = new Set<() => void>();
  /** Channels with a LISTEN in place (or being set up). */
  private readonly listening = new Map<string, Promise<void>>();
  protected closed = false;
  private isHealthy = true;

  get healthy(): boolean {
    return this.isHealthy && !this.closed;
  }

  async publish(manager: EntityManager, topic: string, payload: string): Promise<void> {
    if (Buffer.byteLength(payload) > MAX_EVENT_PAYLOAD_BYTES) {
      throw new Error(`Event payload too large for ${topic}: send ids, not state`);
    }
    // pg_notify (not NOTIFY): the channel and payload are parameters, never SQL text
    await manager.query('SELECT pg_notify($1, $2)', [channelOf(topic), payload]);
  }

  /**
   * Registers `handler` for `topic`. Resolves once this instance LISTENs on the topic's
   * channel, so that nothing committed after it resolves is missed.
   */
  async subscribe(topic: string, handler: (payload: string) => void): Promise<Unsubscribe> {
    const channel = channelOf(topic);
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    let ready = this.listening.get(channel);
    if (!ready) {
      ready = this.listen(channel);
      this.listening.set(channel, ready);
      ready.catch(() => this.listening.delete(channel));
    }
    await ready;
    return () => {
      set.delete(handler);
    };
  }

  onReset(handler: () => void): Unsubscribe {
    this.resetHandlers.add(handler);
    return () => {
      this.resetHandlers.delete(handler);
    };
  }

  /** The channels to LISTEN on again after a reconnect. */
  protected channels(): string[] {
    return [...this.handlers.keys()];
  }

  /** Hands a received notification to the handlers of its channel; never throws. */
  protected dispatch(channel: string, payload: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(payload);
      } catch (error) {
        this.log.error(
          `handler of ${channel} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  protected setHealthy(healthy: boolean): void {
    const wasHealthy = this.isHealthy;
    this.isHealthy = healthy;
    // events may have been missed between losing and regaining the listener
    if (healthy && !wasHealthy) {
      for (const handler of this.resetHandlers) {
        try {
          handler();
        } catch (error) {
          this.log.error(
            `reset handler failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    }
  }

  /** Starts listening on `channel` (idempotent per channel; called once per channel). */
  protected abstract listen(channel: string): Promise<void>;
}
