import type { ChainableCommander } from 'ioredis';
import type { EventEnvelope, PublishOptions } from './event-envelope.interface';

/** What a publish wrote: the envelope and where it landed. */
export interface PublishedEvent {
  envelope: EventEnvelope<unknown>;
  stream: string;
  /** The Redis stream entry id. */
  entryId: string;
}

/** An event with per-event options, for `publishMany`. */
export interface OutgoingEvent {
  event: object;
  options?: PublishOptions;
}

/** Writes of a service's own state, queued on the transaction that also appends its events. */
export type TransactionWrites = (tx: ChainableCommander) => void;

/** The transactional outbox: state writes that land in the same MULTI as the events, or not at all. */
export interface OutboxOptions {
  /**
   * Queues the service's own writes (`tx.hset(...)`, `tx.eval(...)`) on the MULTI that appends the
   * event(s): Redis applies the writes and the events together, or neither when the publish fails.
   */
  with?: TransactionWrites;
}
