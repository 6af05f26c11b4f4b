import { extendArrayMetadata } from '@nestjs/common/utils/extend-metadata.util';
import { EVENT_SUBSCRIBER_METADATA } from '../event-bus.constants';
import type { EventClass } from '../interfaces/event-contract.interface';
import type { SubscribeOptions } from '../interfaces/subscribe-options.interface';

export interface SubscriberMetadata {
  event: EventClass;
  options: SubscribeOptions;
}

/**
 * Handles every event of a contract class published to its stream: `(payload, context)`.
 * Stackable: one method may subscribe to several events.
 *
 * @example
 * @Subscribe(OrderPlaced)
 * async onOrderPlaced(order: OrderPlaced, ctx: EventContext) { ... }
 */
export function Subscribe(event: EventClass, options: SubscribeOptions = {}): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    extendArrayMetadata(
      EVENT_SUBSCRIBER_METADATA,
      [{ event, options }],
      descriptor.value as (...args: unknown[]) => unknown,
    );
    return descriptor;
  };
}
