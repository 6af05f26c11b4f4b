import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventContext } from '../interfaces/event-context.interface';

const storage = new AsyncLocalStorage<EventContext>();

/** Runs `fn` with `context` as the event being handled, so publishes inside it inherit correlation. */
export function runInDeliveryContext<R>(context: EventContext, fn: () => R): R {
  return storage.run(context, fn);
}

/** The delivery being handled by the current async call chain, if any. */
export function currentDelivery(): EventContext | undefined {
  return storage.getStore();
}
