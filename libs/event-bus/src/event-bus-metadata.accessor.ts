import { Injectable, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  EVENT_CONSUMER_GROUP_METADATA,
  EVENT_PUBLISH_RESULT_METADATA,
  EVENT_SUBSCRIBER_METADATA,
} from './event-bus.constants';
import type { SubscriberMetadata } from './decorators/subscribe.decorator';

/** Reads the bus's decorator metadata; the one place that knows the keys. */
@Injectable()
export class EventBusMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  subscriptions(method: object): SubscriberMetadata[] {
    return this.reflector.get<SubscriberMetadata[] | undefined>(EVENT_SUBSCRIBER_METADATA, method as Type) ?? [];
  }

  consumerGroup(cls: Type): string | undefined {
    return this.reflector.get<string | undefined>(EVENT_CONSUMER_GROUP_METADATA, cls);
  }

  publishesResult(method: object): boolean {
    return this.reflector.get<boolean | undefined>(EVENT_PUBLISH_RESULT_METADATA, method as Type) === true;
  }
}
