import { type EntityManager } from 'typeorm';

/** Injection token of the deployment-wide {@link EventBus}. */
export const EVENT_BUS = Symbol('EVENT_BUS');

/** Stops a subscription made with {@link EventBus.subscribe} or {@link EventBus.onReset}. */
export type Unsubscribe = () => void;

/**
 * Events between the server instances of one deployment (spec §8: presence reaches
 * subscribers on every instance). Payloads are small — ids, not state: a receiver
 * reads the current state itself, so an event can never carry stale data.
 *
 * Publishing is transactional: an event published with a transaction's manager is
 * delivered (to every instance, this one included) only after that transaction
 * committed, and never if it rolled back (spec §5: nothing is announced that did not
 * durably happen). The PostgreSQL implementations get this from `pg_notify`; another
 * engine (NATS) would need an outbox table written in the transaction.
 *
 * Delivery is at most once: a receiver that lost its connection may have missed
 * events, and is told so through {@link onReset} so that it drops what it cached.
 */
export interface EventBus {
  /** Publishes `payload` (≤ {@link MAX_EVENT_PAYLOAD_BYTES} octets) on `topic`, inside the transaction of `manager`. */
  publish(manager: EntityManager, topic: string, payload: string): Promise<void>;
  /**
   * Calls `handler` for every event of `topic` from any instance, after its commit.
   * Resolves once events committed from then on are sure to arrive.
   */
  subscribe(topic: string, handler: (payload: string) => void): Promise<Unsubscribe>;
  /** Calls `handler` when events may have been lost (the listener reconnected). */
  onReset(handler: () => void): Unsubscribe;
  /** False while the listener is disconnected: events may be missed, caches must not be trusted. */
  readonly healthy: boolean;
}

/** PostgreSQL's NOTIFY payload limit is 8000 octets; we stay far below it. */
export const MAX_EVENT_PAYLOAD_BYTES = 1024;

/** Topics are lower-case identifiers, so that each maps to a PostgreSQL channel name as is. */
export const TOPIC_PATTERN = /^[a-z][a-z0-9_]{0,40}$/;

/** The PostgreSQL channel of a topic (`irp_` prefix: the database may be shared). */
export function channelOf(topic: string): string {
  if (!TOPIC_PATTERN.test(topic)) throw new Error(`Invalid event topic: ${JSON.stringify(topic)}`);
  return `irp_${topic}`;
}
