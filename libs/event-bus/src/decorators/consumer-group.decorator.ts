import { SetMetadata } from '@nestjs/common';
import { EVENT_CONSUMER_GROUP_METADATA } from '../event-bus.constants';

/** Puts every `@Subscribe` method of the class in `group`, whatever module holds it. */
export const ConsumerGroup = (group: string): ClassDecorator => SetMetadata(EVENT_CONSUMER_GROUP_METADATA, group);
