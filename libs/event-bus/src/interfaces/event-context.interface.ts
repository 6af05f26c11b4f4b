import type { ChainableCommander } from 'ioredis';
import type { EventEnvelope } from './event-envelope.interface';

/** What a handler learns about the delivery besides the payload. */
export interface EventContext<T = unknown> {
  envelope: EventEnvelope<T>;
  /** Logical stream name (`orders`). */
  stream: string;
  /** The Redis stream entry id. */
  entryId: string;
  group: string;
  consumer: string;
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
   * Exactly-once for effects that live in Redis: runs the writes `write` queues, the dedupe
   * marker and the XACK in one MULTI. Call it once, as the handler's last step; a redelivery or
   * replay of the event then finds the marker and skips the handler. Only for groups with one
   * handler per event type (the XACK settles the entry for the whole group).
   */
  commit(write: (tx: ChainableCommander) => void): Promise<void>;
}
