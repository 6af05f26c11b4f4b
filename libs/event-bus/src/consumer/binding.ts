import type { RetryPolicy } from './retry-policy';
import type { EventClass } from '../interfaces/event-contract.interface';
import type { EventContext } from '../interfaces/event-context.interface';

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
}
