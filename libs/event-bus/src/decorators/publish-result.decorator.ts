import { EVENT_PUBLISH_RESULT_METADATA } from '../event-bus.constants';
import { NO_PUBLISHER } from '../event-bus.messages';
import type { EventPublisher } from '../publisher/event-publisher';

/** Publisher of each instance with @PublishResult methods; set by the explorer at module init. */
export const resultPublishers = new WeakMap<object, EventPublisher>();

/**
 * Publishes what the method resolves to (one event, an array of events, or nothing) once it
 * resolves; the caller gets the method's result after the events are written. A method that
 * throws publishes nothing. Works on providers and controllers.
 */
export function PublishResult(): MethodDecorator {
  return (target, key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => unknown;
    const owner = `${target.constructor.name}.${String(key)}`;
    const wrapped = async function (this: object, ...args: unknown[]): Promise<unknown> {
      const result = await original.apply(this, args);
      const publisher = resultPublishers.get(this);
      if (!publisher) throw new Error(NO_PUBLISHER(owner));
      if (Array.isArray(result)) await publisher.publishMany(result as object[]);
      else if (result && typeof result === 'object') await publisher.publish(result);
      return result;
    };
    for (const metaKey of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(metaKey, Reflect.getMetadata(metaKey, original), wrapped);
    }
    Object.defineProperty(wrapped, 'name', { value: original.name });
    Reflect.defineMetadata(EVENT_PUBLISH_RESULT_METADATA, true, wrapped);
    descriptor.value = wrapped;
    return descriptor;
  };
}
