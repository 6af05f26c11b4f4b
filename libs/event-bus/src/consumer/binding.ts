import type { RetryPolicy } from './retry-policy';
import type { EventClass } from '../interfaces/event-contract.interface';
import type { EventContext } from '../interfaces/event-context.interface';
import type { EventPublisher } from '../publisher/event-publisher';

export type EventHandlerFn = (payload: unknown, context: EventContext) => unknown;

/** One `@Subscribe` method bound to a (stream, type) in a group. */
export interface HandlerBinding {
  group: string;
  stream: string;
  type: string;
  contract: EventClass;
  /** `Class.method`, for logs and dead letters. */
  name: string;
  validate: boolean;
  retry?: RetryPolicy;
  handler: EventHandlerFn;
  /** Publishes with the handler's service as `source` (what `context.commit({ publish })` appends). */
  publisher: EventPublisher;
}
