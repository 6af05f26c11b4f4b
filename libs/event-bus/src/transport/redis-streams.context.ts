import { BaseRpcContext } from '@nestjs/microservices';
import type { EventContext } from '../interfaces/event-context.interface';
import type { EventEnvelope } from '../interfaces/event-envelope.interface';

type RedisStreamsContextArgs = [pattern: string, delivery: EventContext];

/**
 * The context of an `@EventPattern` handler (`@Ctx() ctx: RedisStreamsContext`): the entry and
 * its delivery, as the library's own handlers see them in their `EventContext`.
 */
export class RedisStreamsContext extends BaseRpcContext<RedisStreamsContextArgs> {
  constructor(args: RedisStreamsContextArgs) {
    super(args);
  }

  /** The pattern the entry was routed by. */
  getPattern(): string {
    return this.args[0];
  }

  /** The stream entry's id (`1733580000000-0`). */
  getId(): string {
    return this.args[1].entryId;
  }

  /** The logical stream (the key without namespace and partition). */
  getStream(): string {
    return this.args[1].stream;
  }

  /** The service's consumer group. */
  getGroup(): string {
    return this.args[1].group;
  }

  /** This instance's consumer name. */
  getConsumer(): string {
    return this.args[1].consumer;
  }

  /** The partition the entry is in (0 when streams are not partitioned). */
  getPartition(): number {
    return this.args[1].partition;
  }

  /** 1 the first time; more after a retry, a claim from a dead instance or a crash. */
  getDeliveryCount(): number {
    return this.args[1].deliveryCount;
  }

  /** The CloudEvents envelope: `id`, `type`, `source`, `time`, `subject`, `correlationid`, `causationid`, `traceparent`... */
  getEnvelope(): EventEnvelope<unknown> {
    return this.args[1].envelope;
  }

  /** The library's context of the delivery (`replay`, `redrive`, `commit()`...). */
  getEventContext(): EventContext {
    return this.args[1];
  }
}
