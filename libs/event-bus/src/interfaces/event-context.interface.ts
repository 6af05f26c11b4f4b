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
}
