import { randomUUID } from 'node:crypto';
import { ClientProxy } from '@nestjs/microservices';
import { InvalidMessageException } from '@nestjs/microservices/errors/invalid-message.exception';
import type { PacketId, ReadPacket, WritePacket } from '@nestjs/microservices';
import { NO_MESSAGE_HANDLER } from '@nestjs/microservices/constants';
import { connectable, defer, Observable, Subject, throwError } from 'rxjs';
import type Redis from 'ioredis';
import { contractRegistry } from '../contracts/contract-registry';
import type { ConsumerScripts } from '../consumer/consumer-scripts';
import { currentDelivery } from '../context/delivery-context';
import { encodeEnvelope } from '../envelope/envelope';
import { PublishFailedError } from '../errors/publish-failed.error';
import { CLOUDEVENTS_SPEC_VERSION, DEFAULT_PUBLISH_TIMEOUT_MS, JSON_CONTENT_TYPE } from '../event-bus.constants';
import { EventBusCore } from '../event-bus.core';
import type { EventEnvelope } from '../interfaces/event-envelope.interface';
import type { PublishedEvent } from '../interfaces/publish.interface';
import { endSpan, startPublishSpan } from '../observability/tracing';
import { routeOf, wrapPayload } from './pattern-route';
import { DEFAULT_CLIENT_SOURCE, DEFAULT_REQUEST_TIMEOUT_MS, VALUE_KEY } from './redis-streams.constants';
import { RequestData, replyStreamKey, requestRouteOf } from './request-route';
import { ReplyReader } from './reply-reader';
import { RequestTimeoutError } from './request-timeout.error';
import type { RedisStreamsClientOptions } from './redis-streams.options';
import { RedisStreamsRecord } from './redis-streams.record';
import { PendingListeners, reportStatus } from './redis-status';
import { NOT_LISTENING } from './transport.messages';

// NOTE: `status` emits RedisStreamsStatus values; typed `string` as the base class is, so the class fits
// ClientsModule.register({ customClass }), whose type expects a ClientProxy<..., string>.
/**
 * A Nest `ClientProxy` on the platform's streams: `lastValueFrom(client.emit('order.placed', order))`
 * resolves once Redis has the entry, and rejects with `PublishFailedError` when Redis does not take
 * it within `publishTimeoutMs`; `send(pattern, data)` is a request to the services serving the
 * pattern, answered on this instance's reply stream.
 */
export class ClientRedisStreams extends ClientProxy {
  private core?: EventBusCore;
  private readonly pending = new PendingListeners();
  private readonly timeoutMs: number;
  private readonly requestTimeoutMs: number;
  /** Names this instance's reply stream. */
  private readonly clientId = randomUUID();
  private replies?: ReplyReader;
  /** Request stream keys a group was seen on. */
  private readonly servedKeys = new Set<string>();

  constructor(private readonly options: RedisStreamsClientOptions = {}) {
    super();
    this.timeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.initializeSerializer(options);
    this.initializeDeserializer(options);
  }

  /** Resolves once Redis answers; rejects when it does not within `publishTimeoutMs` (it keeps trying in the background). */
  async connect(): Promise<void> {
    if (!(await this.bus().writable(this.timeoutMs))) {
      throw new Error(`Redis did not answer within ${this.timeoutMs} ms: check that it is reachable`);
    }
  }

  /**
   * Appends the event; the Observable is hot (the write happens whether or not anyone subscribes)
   * and emits the written entry (`PublishedEvent`) once Redis has it, or fails with
   * `PublishFailedError`. It does not wait for connect(): a write waits for the connection itself,
   * up to `publishTimeoutMs`.
   */
  override emit<TResult = PublishedEvent, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    if (pattern === undefined || pattern === null || data === undefined || data === null) {
      return throwError(() => new InvalidMessageException());
    }
    const source = connectable(
      defer(() => this.dispatchEvent<TResult>({ pattern, data })),
      {
        connector: () => new Subject<TResult>(),
        resetOnDisconnect: false,
      },
    );
    source.connect();
    return source;
  }

  protected async dispatchEvent<T = PublishedEvent>(packet: ReadPacket): Promise<T> {
    const core = this.bus();
    const serialized = this.serializer.serialize(packet) as ReadPacket;
    const record = serialized.data instanceof RedisStreamsRecord ? (serialized.data as RedisStreamsRecord) : undefined;
    const data: unknown = record ? record.data : serialized.data;
    const route = routeOf(this.normalizePattern(serialized.pattern), this.options.route);
    const contract = contractRegistry.newest(route.type)?.meta;
    const delivery = currentDelivery();
    const id = record?.options.id ?? randomUUID();
    const trace = this.options.tracing === false ? undefined : startPublishSpan(route.stream, route.type, 1);
    const envelope: EventEnvelope<unknown> = {
      specversion: CLOUDEVENTS_SPEC_VERSION,
      id,
      type: route.type,
      version: contract?.version ?? 1,
      source: this.options.source ?? DEFAULT_CLIENT_SOURCE,
      time: new Date().toISOString(),
      datacontenttype: JSON_CONTENT_TYPE,
      data: wrapPayload(data),
      subject: record?.options.subject ?? subjectOf(data, contract?.subjectField),
      correlationid: record?.options.correlationId ?? delivery?.envelope.correlationid ?? delivery?.envelope.id ?? id,
      causationid: record?.options.causationId ?? delivery?.envelope.id,
      traceparent: trace?.carrier.traceparent,
      tracestate: trace?.carrier.tracestate,
    };
    const keys = core.keys;
    const key = keys.stream(route.stream, keys.partitionOf(envelope.subject ?? id));
    try {
      const entryId = await this.append(core, id, key, encodeEnvelope(envelope));
      core.metrics?.published(route.stream, route.type);
      if (trace) endSpan(trace.span);
      const published: PublishedEvent = { envelope, stream: route.stream, entryId };
      return published as T;
    } catch (error) {
      core.metrics?.publishFailed(route.stream, route.type);
      if (trace) endSpan(trace.span, error);
      throw error;
    }
  }

  /** XADD within `publishTimeoutMs`, the connection's wait included; PublishFailedError otherwise. */
  private async append(core: EventBusCore, id: string, key: string, fields: string[]): Promise<string> {
    // NOTE: on one Redis through the library's at-most-once writer, as its publishes: a write whose
    // connection dropped before the answer is looked for, not sent again.
    if (core.writer) return (await core.appendOnce([{ key, fields, id }], this.timeoutMs))[0] ?? '';
    const started = Date.now();
    if (!(await core.writable(this.timeoutMs))) {
      throw new PublishFailedError([id], new Error(`Redis did not answer within ${this.timeoutMs} ms`));
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not take the write within ${this.timeoutMs} ms`)),
        Math.max(1, this.timeoutMs - (Date.now() - started)),
      );
    });
    try {
      return (await Promise.race([core.redis.xadd(key, '*', ...fields), deadline])) ?? '';
    } catch (error) {
      throw new PublishFailedError([id], error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends a request to the services serving `packet.pattern` (the first of their instances to read
   * it runs it) and routes the reply packets from this client's reply stream to `callback`. Fails
   * at once with Nest's "no matching message handler" when no service reads the pattern, and with
   * RequestTimeoutError when the reply is not complete within `requestTimeoutMs`.
   */
  protected publish(partial: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const packet = this.assignPacketId(partial);
    const pattern = this.normalizePattern(packet.pattern);
    let done = false;
    const finish = (reply: WritePacket): void => {
      if (done) return;
      if (reply.err !== undefined || reply.isDisposed) teardown();
      callback(reply);
    };
    const timer = setTimeout(
      () => finish({ err: new RequestTimeoutError(pattern, this.requestTimeoutMs), isDisposed: true }),
      this.requestTimeoutMs,
    );
    const teardown = (): void => {
      done = true;
      clearTimeout(timer);
      this.routingMap.delete(packet.id);
    };
    this.routingMap.set(packet.id, finish);
    this.request(packet, pattern).then(
      // NOTE: Nest's own transports answer an unknown pattern with this message as the error.
      (sent) => sent || finish({ err: NO_MESSAGE_HANDLER, isDisposed: true }),
      (error: unknown) => finish({ err: error, isDisposed: true }),
    );
    return teardown;
  }

  /** Appends the request; false when no service reads its stream. */
  private async request(packet: ReadPacket & PacketId, pattern: string): Promise<boolean> {
    const core = this.bus();
    const replies = this.replyReader(core);
    const route = requestRouteOf(pattern);
    const serialized = this.serializer.serialize(packet) as ReadPacket;
    const record = serialized.data instanceof RedisStreamsRecord ? (serialized.data as RedisStreamsRecord) : undefined;
    const subject = record?.options.subject;
    const key = core.keys.stream(route.stream, core.keys.partitionOf(subject ?? packet.id));
    if (!(await this.served(core, key))) return false;
    const data: RequestData = {
      [VALUE_KEY]: record ? record.data : serialized.data,
      '@replyto': replies.key,
      '@deadline': Date.now() + this.requestTimeoutMs,
    };
    const delivery = currentDelivery();
    const envelope: EventEnvelope<unknown> = {
      specversion: CLOUDEVENTS_SPEC_VERSION,
      id: packet.id,
      type: route.type,
      version: 1,
      source: this.options.source ?? DEFAULT_CLIENT_SOURCE,
      time: new Date().toISOString(),
      datacontenttype: JSON_CONTENT_TYPE,
      data,
      subject,
      correlationid:
        record?.options.correlationId ?? delivery?.envelope.correlationid ?? delivery?.envelope.id ?? packet.id,
      causationid: record?.options.causationId ?? delivery?.envelope.id,
    };
    await this.append(core, packet.id, key, encodeEnvelope(envelope));
    return true;
  }

  /** Whether a consumer group reads the request stream `key` (a service serves the pattern); a yes is remembered. */
  private async served(core: EventBusCore, key: string): Promise<boolean> {
    if (this.servedKeys.has(key)) return true;
    if (!(await core.writable(this.timeoutMs))) throw new Error(`Redis did not answer within ${this.timeoutMs} ms`);
    // NOTE: XINFO through the library's one-key script: on a cluster a bare XINFO goes to a random node.
    const groups = (await (core.redis as Redis & ConsumerScripts).xinfoOf(key, 'GROUPS').catch(() => [])) as unknown[];
    if (groups.length === 0) return false;
    this.servedKeys.add(key);
    return true;
  }

  /** This instance's reply reader, started on the first request. */
  private replyReader(core: EventBusCore): ReplyReader {
    this.replies ??= new ReplyReader(core, replyStreamKey(core.keys.namespace, this.clientId), (raw) => {
      void Promise.resolve(this.deserializer.deserialize(raw)).then((reply: WritePacket & Partial<PacketId>) => {
        if (reply.id !== undefined) this.routingMap.get(reply.id)?.(reply);
      });
    });
    this.replies.start();
    return this.replies;
  }

  /** Fails the requests still waiting for a reply, stops reading replies, and closes the connection; the next call opens a new one. */
  async close(): Promise<void> {
    for (const callback of [...this.routingMap.values()]) {
      callback({ err: new Error('ClientRedisStreams was closed before the reply came'), isDisposed: true });
    }
    const core = this.core;
    this.core = undefined;
    const replies = this.replies;
    this.replies = undefined;
    this.servedKeys.clear();
    await replies?.stop();
    if (core) await core.onApplicationShutdown();
    this._status$.next('disconnected');
  }

  /** Listens to an ioredis event of the connection (queued until it exists). */
  override on(event: string, callback: (...args: unknown[]) => void): void {
    if (this.core) this.core.redis.on(event, callback);
    else this.pending.add(event, callback);
  }

  /** The connection (ioredis); throws before connect() or a first emit(). */
  unwrap<T = Redis>(): T {
    if (!this.core) throw new Error(NOT_LISTENING('ClientRedisStreams'));
    return this.core.redis as T;
  }

  /** The connection and key layout, created on first use. */
  private bus(): EventBusCore {
    if (this.core) return this.core;
    const { source: _source, route: _route, ...bus } = this.options;
    const core = (this.core = new EventBusCore({ ...bus, metrics: bus.metrics ?? false, consume: false }));
    reportStatus(core.redis, (status) => this._status$.next(status));
    this.pending.attach(core.redis);
    return core;
  }
}

function subjectOf(data: unknown, field: string | undefined): string | undefined {
  if (!field || data === null || typeof data !== 'object') return undefined;
  const value = (data as Record<string, unknown>)[field];
  return value === undefined || value === null ? undefined : String(value);
}
