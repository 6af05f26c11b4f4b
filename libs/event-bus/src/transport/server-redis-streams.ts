import type {
  CustomTransportStrategy,
  IncomingRequest,
  MessageHandler,
  ReadPacket,
  WritePacket,
} from '@nestjs/microservices';
import { NO_MESSAGE_HANDLER } from '@nestjs/microservices/constants';
import { Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type Redis from 'ioredis';
import { EventBusCore } from '../event-bus.core';
import type { HandlerBinding } from '../consumer/binding';
import type { ConsumerScripts } from '../consumer/consumer-scripts';
import { Dispatcher } from '../consumer/dispatcher';
import { GroupConsumer } from '../consumer/group-consumer';
import { GroupRunner, PartitionedGroup } from '../consumer/partitioned-group';
import type { EventContext } from '../interfaces/event-context.interface';
import { EventPublisher } from '../publisher/event-publisher';
import { assertName } from '../utils/names';
import { contractForRoute, routeOf, unwrapPayload } from './pattern-route';
import { REDIS_STREAMS_TRANSPORT, VALUE_KEY } from './redis-streams.constants';
import { RedisStreamsContext } from './redis-streams.context';
import type { RedisStreamsServerOptions } from './redis-streams.options';
import { PendingListeners, RedisStreamsStatus, reportStatus } from './redis-status';
import { NOT_LISTENING } from './transport.messages';
import {
  isRequestData,
  REPLY_STREAM_MAXLEN,
  REPLY_STREAM_TTL_MS,
  REQUEST_STREAM_PREFIX,
  requestRouteOf,
} from './request-route';
import { UnrecoverableError } from '../errors/unrecoverable.error';
import { handlerError } from './handler-error';

/**
 * A Nest microservices transport on the platform's streams:
 * `app.connectMicroservice({ strategy: new ServerRedisStreams({ redis, group }) })`. Each
 * `@EventPattern` handler is a handler of the service's consumer group, run by the library's own
 * consumer: acknowledged once it succeeded, retried with backoff, then dead-lettered; claimed from
 * dead instances; per-subject order; drained at close. Each `@MessagePattern` reads its request
 * stream in the same group and replies to the caller's reply stream.
 */
export class ServerRedisStreams
  extends Server<Record<string, (...args: unknown[]) => void>, RedisStreamsStatus>
  implements CustomTransportStrategy
{
  override readonly transportId = REDIS_STREAMS_TRANSPORT;
  private core?: EventBusCore;
  private runner?: GroupRunner;
  private readonly pending = new PendingListeners();
  /** Each pattern's handler, looked up once: Nest's lookup tries JSON.parse on the pattern every time. */
  private readonly handlerOf = new Map<string, MessageHandler | null>();

  constructor(private readonly options: RedisStreamsServerOptions) {
    super();
    assertName('group', options.group);
    this.initializeSerializer(options);
    this.initializeDeserializer(options);
  }

  override addHandler(
    pattern: unknown,
    callback: MessageHandler,
    isEventHandler?: boolean,
    extras?: Record<string, unknown>,
  ): void {
    this.handlerOf.clear();
    super.addHandler(pattern, callback, isEventHandler, extras);
  }

  override getHandlerByPattern(pattern: string): MessageHandler | null {
    let handler = this.handlerOf.get(pattern);
    if (handler === undefined) this.handlerOf.set(pattern, (handler = super.getHandlerByPattern(pattern)));
    return handler;
  }

  /** The group's consumer in this process: counters (`stats`), entries in flight; undefined before listen. */
  get consumer(): GroupRunner | undefined {
    return this.runner;
  }

  /** Connects, binds every `@EventPattern` and `@MessagePattern` handler to the group and starts consuming; `callback(error)` when that fails. */
  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      // NOTE: a connection left behind would go on reconnecting to a Redis the app gave up on.
      await this.close().catch(() => undefined);
      return callback(error);
    }
    callback();
  }

  private async start(): Promise<void> {
    const { group, consumer, source, route, ...bus } = this.options;
    // NOTE: no metrics unless asked for with a registry: a private registry nobody scrapes only costs.
    const core = (this.core = new EventBusCore({ ...bus, metrics: bus.metrics ?? false, consume: true, consumer }));
    reportStatus(core.redis, (status) => this._status$.next(status));
    this.pending.attach(core.redis);
    const bindings = this.bindings(new EventPublisher(core, source ?? group));
    if (core.redis.status === 'wait') await core.redis.connect();
    await core.redis.ping();
    if (bindings.length === 0) return;
    await this.ensureRequestGroups(core, bindings);
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

  /**
   * Creates the group on every partition of its request streams at once: a client takes a group on
   * a request stream as the sign that a service serves the pattern, and a partition's own consumer
   * creates it only once its lease is taken.
   */
  private async ensureRequestGroups(core: EventBusCore, bindings: HandlerBinding[]): Promise<void> {
    const scripts = core.redis as Redis & ConsumerScripts;
    const keys = bindings
      .filter((binding) => binding.stream.startsWith(REQUEST_STREAM_PREFIX))
      .flatMap((binding) => core.keys.streamKeys(binding.stream));
    await Promise.all(keys.map((key) => scripts.ensureGroup(key, this.options.group, '0')));
  }

  /**
   * One binding per pattern: an event pattern's chained handlers run as one delivery (as Nest
   * chains them); a message pattern reads its request stream and replies to the caller's.
   */
  private bindings(publisher: EventPublisher): HandlerBinding[] {
    const group = this.options.group;
    const bindings: HandlerBinding[] = [];
    for (const [pattern, handler] of this.messageHandlers) {
      const request = !handler.isEventHandler;
      const route = request ? requestRouteOf(pattern) : routeOf(pattern, this.options.route);
      const name = `@${request ? 'MessagePattern' : 'EventPattern'}(${pattern})`;
      bindings.push({
        group,
        stream: route.stream,
        type: route.type,
        contract: contractForRoute(route),
        name,
        validate: false,
        handler: request
          ? (payload, context) => this.handleRequest(pattern, payload, context)
          : (payload, context) => this.handle(pattern, payload, context),
        publisher,
      });
      this.logger.log(`${name} <- ${route.stream}/${route.type} [group ${group}]`);
    }
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
    // NOTE: the hooks decide when the handler runs (an AsyncLocalStorage hook runs it inside its
    // store): `done` is what they call, and its promise is the delivery's outcome.
    const outcome = new Promise<void>((settled, failed) => {
      const run = async (): Promise<void> => {
        try {
          const result: unknown = await handler(packet.data, context);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
        } finally {
          this.onProcessingEndHook?.(this.transportId, context);
        }
      };
      try {
        this.onProcessingStartHook(this.transportId, context, () => {
          const running = run();
          running.then(settled, failed);
          return running;
        });
      } catch (error) {
        failed(error);
      }
    });
    await outcome.catch((error: unknown) => {
      throw handlerError(error);
    });
  }

  /**
   * One request: runs the pattern's handler and writes each packet of its result (`response`,
   * `err`, `isDisposed`, as Nest's `Server.send` orders them) to the caller's reply stream;
   * resolves once the last one is written, so the request is acknowledged only then. A request
   * whose caller stopped waiting is acknowledged without running.
   */
  private async handleRequest(pattern: string, data: unknown, delivery: EventContext): Promise<void> {
    if (!isRequestData(data)) {
      throw new UnrecoverableError(`a request of ${pattern} without a reply stream`, 'not-a-request');
    }
    if (Date.now() > data['@deadline']) {
      this.logger.debug?.(`request ${delivery.envelope.id} of ${pattern} expired before it ran: not run`);
      return;
    }
    const id = delivery.envelope.id;
    const replyTo = data['@replyto'];
    const context = new RedisStreamsContext([pattern, delivery]);
    const packet = (await this.deserializer.deserialize({ pattern, data: data[VALUE_KEY], id })) as ReadPacket;
    const handler = this.getHandlerByPattern(pattern);
    await new Promise<void>((resolve, reject) => {
      const respond = async (response: WritePacket): Promise<void> => {
        try {
          await this.reply(replyTo, id, response);
          if (response.isDisposed) resolve();
        } catch (error) {
          reject(error);
        }
      };
      const run = async (): Promise<void> => {
        try {
          if (!handler) throw new Error(NO_MESSAGE_HANDLER);
          this.send(this.transformToObservable(await handler(packet.data, context)), respond);
        } catch (error) {
          await respond({ err: error, isDisposed: true });
        }
      };
      try {
        this.onProcessingStartHook(this.transportId, context, run);
      } catch (error) {
        reject(error);
      }
    });
  }

  /** Appends one reply packet to a caller's reply stream (trimmed, and expiring once nobody reads it). */
  private async reply(replyTo: string, id: string, packet: WritePacket): Promise<void> {
    const err: unknown = packet.err instanceof Error ? { status: 'error', message: packet.err.message } : packet.err;
    const serialized: unknown = this.serializer.serialize({ ...packet, err, id });
    const results = await this.core!.redis.multi()
      .xadd(replyTo, 'MAXLEN', '~', REPLY_STREAM_MAXLEN, '*', 'packet', JSON.stringify(serialized))
      .pexpire(replyTo, REPLY_STREAM_TTL_MS)
      .exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
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
