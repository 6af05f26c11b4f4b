import type { CustomTransportStrategy, IncomingRequest, MessageHandler, ReadPacket } from '@nestjs/microservices';
import { Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type Redis from 'ioredis';
import { EventBusCore } from '../event-bus.core';
import type { HandlerBinding } from '../consumer/binding';
import { Dispatcher } from '../consumer/dispatcher';
import { GroupConsumer } from '../consumer/group-consumer';
import { GroupRunner, PartitionedGroup } from '../consumer/partitioned-group';
import type { EventContext } from '../interfaces/event-context.interface';
import { EventPublisher } from '../publisher/event-publisher';
import { assertName } from '../utils/names';
import { contractForRoute, routeOf, unwrapPayload } from './pattern-route';
import { REDIS_STREAMS_TRANSPORT } from './redis-streams.constants';
import { RedisStreamsContext } from './redis-streams.context';
import type { RedisStreamsServerOptions } from './redis-streams.options';
import { PendingListeners, RedisStreamsStatus, reportStatus } from './redis-status';
import { NO_REQUEST_REPLY, NOT_LISTENING } from './transport.messages';
import { handlerError } from './handler-error';

/**
 * A Nest microservices transport on the platform's streams:
 * `app.connectMicroservice({ strategy: new ServerRedisStreams({ redis, group }) })`. Each
 * `@EventPattern` handler is a handler of the service's consumer group, run by the library's own
 * consumer: acknowledged once it succeeded, retried with backoff, then dead-lettered; claimed from
 * dead instances; per-subject order; drained at close.
 */
export class ServerRedisStreams
  extends Server<Record<string, (...args: unknown[]) => void>, RedisStreamsStatus>
  implements CustomTransportStrategy
{
  override readonly transportId = REDIS_STREAMS_TRANSPORT;
  private core?: EventBusCore;
  private runner?: GroupRunner;
  private readonly pending = new PendingListeners();

  constructor(private readonly options: RedisStreamsServerOptions) {
    super();
    assertName('group', options.group);
    this.initializeSerializer(options);
    this.initializeDeserializer(options);
  }

  /** The group's consumer in this process: counters (`stats`), entries in flight; undefined before listen. */
  get consumer(): GroupRunner | undefined {
    return this.runner;
  }

  /** Connects, binds every `@EventPattern` handler to the group and starts consuming; `callback(error)` when that fails. */
  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      return callback(error);
    }
    callback();
  }

  private async start(): Promise<void> {
    const { group, consumer, source, route, ...bus } = this.options;
    const core = (this.core = new EventBusCore({ ...bus, consume: true, consumer }));
    reportStatus(core.redis, (status) => this._status$.next(status));
    this.pending.attach(core.redis);
    const bindings = this.bindings(new EventPublisher(core, source ?? group));
    if (core.redis.status === 'wait') await core.redis.connect();
    if (bindings.length === 0) return;
    const tuning = core.tuning(consumer);
    const dispatcher = new Dispatcher(tuning.concurrency);
    this.runner = core.keys.partitioned
      ? new PartitionedGroup(
          core,
          group,
          tuning,
          (scope) => new GroupConsumer(core, group, tuning, bindings, scope, dispatcher),
        )
      : new GroupConsumer(core, group, tuning, bindings);
    await this.runner.start();
  }

  /** One binding per event pattern (a pattern's chained handlers run as one, as Nest chains them); request handlers are left out. */
  private bindings(publisher: EventPublisher): HandlerBinding[] {
    const requests: string[] = [];
    const bindings: HandlerBinding[] = [];
    for (const [pattern, handler] of this.messageHandlers) {
      if (!handler.isEventHandler) {
        requests.push(pattern);
        continue;
      }
      const route = routeOf(pattern, this.options.route);
      bindings.push({
        group: this.options.group,
        stream: route.stream,
        type: route.type,
        contract: contractForRoute(route),
        name: `@EventPattern(${pattern})`,
        validate: false,
        handler: (payload, context) => this.handle(pattern, payload, context),
        publisher,
      });
      this.logger.log(`@EventPattern(${pattern}) <- ${route.stream}/${route.type} [group ${this.options.group}]`);
    }
    if (requests.length > 0) this.logger.warn(NO_REQUEST_REPLY(requests));
    return bindings;
  }

  /** One delivery: the packet through the deserializer, then the pattern's handlers; settles once they did. */
  private async handle(pattern: string, data: unknown, delivery: EventContext): Promise<void> {
    const packet = (await this.deserializer.deserialize({ pattern, data: unwrapPayload(data) })) as
      IncomingRequest | ReadPacket;
    await this.handleEvent(pattern, packet, new RedisStreamsContext([pattern, delivery]));
  }

  /**
   * Runs the pattern's handler inside the processing hooks and resolves once its result settled:
   * a Promise resolved, an Observable completed. Unlike the base class it rejects with the
   * handler's error (after the exception filters), so the consumer retries and dead-letters.
   */
  override async handleEvent(pattern: string, packet: ReadPacket, context: RedisStreamsContext): Promise<void> {
    const handler: MessageHandler | null = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`no @EventPattern handler for ${pattern}`);
    let outcome!: Promise<void>;
    await new Promise<void>((hookDone) => {
      const run = async (): Promise<void> => {
        try {
          const result: unknown = await handler(packet.data, context);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
        } finally {
          this.onProcessingEndHook?.(this.transportId, context);
        }
      };
      this.onProcessingStartHook(this.transportId, context, () => {
        outcome = run();
        hookDone();
        return outcome;
      });
    });
    await outcome.catch((error: unknown) => {
      throw handlerError(error);
    });
  }

  /** Stops reading, waits for the handlers in flight (up to `consumer.shutdownTimeoutMs`), acknowledges, disconnects. */
  async close(): Promise<void> {
    const core = this.core;
    await this.runner?.stop();
    this.runner = undefined;
    this.core = undefined;
    if (core) await core.onApplicationShutdown();
    this._status$.next('disconnected');
  }

  /** Listens to an ioredis event of the command connection (queued until listen()). */
  on(event: string, callback: (...args: unknown[]) => void): void {
    if (this.core) this.core.redis.on(event, callback);
    else this.pending.add(event, callback);
  }

  /** The command connection (ioredis); throws before listen(). */
  unwrap<T = Redis>(): T {
    if (!this.core) throw new Error(NOT_LISTENING('ServerRedisStreams'));
    return this.core.redis as T;
  }
}
