import type { ChainableCommander } from 'ioredis';
import type { EventEnvelope } from './event-envelope.interface';
import type { OutgoingEvent, PublishedEvent } from './publish.interface';

/** What `EventContext.commit()` publishes with the handler's writes. */
export interface CommitOptions {
  /**
   * Events the handler announces (instances of `@EventContract` classes, or `{ event, options }`
   * for an id or a subject of their own), appended in the same MULTI as the writes and the
   * acknowledgement, with the handler's service as `source` and this event's correlation.
   */
  publish?: Array<object | OutgoingEvent>;
}

/** What a handler learns about the delivery besides the payload. */
export interface EventContext<T = unknown> {
  envelope: EventEnvelope<T>;
  /** Logical stream name (`orders`). */
  stream: string;
  /** The Redis stream entry id. */
  entryId: string;
  group: string;
  /** The instance (its consumer name) that handles the delivery. */
  consumer: string;
  /** The partition of the entry's stream (0 when streams are not partitioned). */
  partition: number;
  /** The epoch of this instance's lease on (group, partition); undefined when streams are not partitioned. */
  epoch?: number;
  /** 1 on the first delivery; more after a crash, a claim or a retry. */
  deliveryCount: number;
  /** True when the delivery comes from a replay rather than the live stream. */
  replay: boolean;
  /** True when the delivery is a dead letter sent back to this group. */
  redrive: boolean;
  /**
   * The version the entry was written as, when it was older than the newest contract of its type
   * and the payload was upcast (`envelope.version` and `envelope.data` stay as on the wire);
   * undefined when the entry was already the newest version.
   */
  upcastFrom?: number;
  /**
   * Consume, change state and publish in one step: runs the writes `write` queues, the events of
   * `options.publish`, the dedupe marker and the XACK in one MULTI, so a crash can neither apply
   * the writes twice nor announce the events twice. Call it once, as the handler's last step; a
   * redelivery or replay of the event then finds the marker and skips the handler. Only for
   * groups with one handler per event type (the XACK settles the entry for the whole group).
   * Throws PublishFailedError when Redis did not take the transaction (the handler is retried).
   * @returns the events published
   */
  commit(write?: (tx: ChainableCommander) => void, options?: CommitOptions): Promise<PublishedEvent[]>;
}
