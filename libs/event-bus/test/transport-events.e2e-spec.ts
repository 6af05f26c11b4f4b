import {
  ArgumentsHost,
  CallHandler,
  CanActivate,
  Catch,
  Controller,
  ExecutionContext,
  Inject,
  Injectable,
  Module,
  NestInterceptor,
  PipeTransform,
} from '@nestjs/common';
import type { INestApplicationContext, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BaseRpcExceptionFilter, ClientsModule, Ctx, EventPattern, Payload, RpcException } from '@nestjs/microservices';
import type Redis from 'ioredis';
import { lastValueFrom, Observable, tap } from 'rxjs';
import {
  DeadLetterService,
  EventBusCore,
  EventBusModule,
  EventContext,
  EventPublisher,
  PublishedEvent,
  PublishFailedError,
  Subscribe,
  UnrecoverableError,
} from '@nest-streams/event-bus';
import {
  ClientRedisStreams,
  eventPattern,
  RedisStreamsContext,
  RedisStreamsRecord,
  ServerRedisStreams,
} from '@nest-streams/event-bus/transport';
import { ParcelOrdered } from './fixtures/fixture-events';
import { FAST_CONSUMER, INSTANCE, startService, transportClient } from './fixtures/transport-service';
import { freePort } from '../../../test/support/redis-server';
import {
  deadLetterCount,
  pendingCount,
  testBusOptions,
  testKeys,
  testNamespace,
  testRedisClient,
  waitFor,
} from '../../../test/support/redis';

/** One handler run: who ran it, on what. */
interface Run {
  instance: string;
  pattern: string;
  data: unknown;
  entryId: string;
  stream: string;
  group: string;
  deliveryCount: number;
  eventId: string;
  redrive: boolean;
  partition: number;
}

let runs: Run[] = [];
/** Handler starts, by instance and parcel id (to close an app while a handler runs). */
let started: string[] = [];
/** What enhancers saw, in order. */
let seen: string[] = [];

function record(instance: string, data: unknown, ctx: RedisStreamsContext): void {
  runs.push({
    instance,
    pattern: ctx.getPattern(),
    data,
    entryId: ctx.getId(),
    stream: ctx.getStream(),
    group: ctx.getGroup(),
    deliveryCount: ctx.getDeliveryCount(),
    eventId: ctx.getEnvelope().id,
    redrive: ctx.getEventContext().redrive,
    partition: ctx.getPartition(),
  });
}

/** The runs of parcel `id`'s events. */
function parcelRuns(id: string, instance?: string): Run[] {
  return runs.filter((r) => (r.data as Parcel).id === id && (!instance || r.instance.startsWith(instance)));
}

@Controller()
class NotificationController {
  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @EventPattern('notification')
  notify(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext): void {
    record(this.instance, data, ctx);
  }

  @EventPattern('sum.requested')
  async sum(@Payload() data: number[], @Ctx() ctx: RedisStreamsContext): Promise<void> {
    await new Promise((r) => setTimeout(r, 5));
    record(this.instance, data, ctx);
  }
}

/** A second handler of `notification`: Nest chains both, and both must succeed before the entry is acknowledged. */
@Controller()
class AuditController {
  static failuresLeft = 0;

  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @EventPattern('notification')
  audit(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext): void {
    if (AuditController.failuresLeft > 0) {
      AuditController.failuresLeft--;
      throw new Error('audit store unavailable');
    }
    record(`${this.instance}/audit`, data, ctx);
  }
}

interface Parcel {
  id: string;
  /** Throws while the id is in ParcelController.cursed. */
  cursed?: boolean;
  /** Throws on its first delivery. */
  flaky?: boolean;
  slowMs?: number;
  forbidden?: boolean;
  piped?: boolean;
}

@Controller()
class ParcelController {
  static cursed = new Set<string>();

  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @EventPattern('parcel.sent')
  async sent(@Payload() parcel: Parcel, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    started.push(`${this.instance} ${parcel.id}`);
    if (parcel.slowMs) await new Promise((r) => setTimeout(r, parcel.slowMs));
    if (parcel.cursed && ParcelController.cursed.has(parcel.id)) throw new Error(`parcel ${parcel.id} is cursed`);
    if (parcel.flaky && ctx.getDeliveryCount() === 1) throw new Error(`parcel ${parcel.id} fails once`);
    record(this.instance, parcel, ctx);
  }
}

/** Refuses unknown customers for good, and announces known ones through the transport's client. */
@Controller()
class CustomerController {
  static client?: ClientRedisStreams;

  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @EventPattern('customer.seen')
  async seen(@Payload() customer: { id: string }, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    if (customer.id === 'nobody')
      throw new RpcException(new UnrecoverableError('no such customer', 'unknown-customer'));
    record(this.instance, customer, ctx);
    await lastValueFrom(CustomerController.client!.emit('customer.welcomed', { id: customer.id }));
  }

  @EventPattern('customer.welcomed')
  welcomed(@Payload() customer: { id: string }, @Ctx() ctx: RedisStreamsContext): void {
    record(this.instance, customer, ctx);
  }
}

/** Steps of several accounts: records when each handler run starts and ends, to check order per subject. */
@Controller()
class LedgerController {
  static spans: Array<{ instance: string; account: string; seq: number; start: number; end: number }> = [];

  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @EventPattern('ledger.step')
  async step(@Payload() step: { account: string; seq: number }): Promise<void> {
    const start = performance.now();
    await new Promise((r) => setTimeout(r, 1 + (step.seq % 4)));
    LedgerController.spans.push({ instance: this.instance, ...step, start, end: performance.now() });
  }
}

/** Records the AsyncLocalStorage store a processing hook opened around it. */
@Controller()
class HookedController {
  static store: () => string | undefined = () => undefined;
  static seen: Array<string | undefined> = [];

  @EventPattern('hooked')
  hooked(): void {
    HookedController.seen.push(HookedController.store());
  }
}

/** A transport handler of the library's own contract. */
@Controller()
class ParcelOrderedController {
  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @EventPattern(eventPattern(ParcelOrdered))
  ordered(@Payload() parcel: ParcelOrdered, @Ctx() ctx: RedisStreamsContext): void {
    record(this.instance, parcel, ctx);
  }
}

@Injectable()
class ForbidFlagged implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const parcel = context.switchToRpc().getData<Parcel>();
    seen.push(`guard ${parcel.id}`);
    return !parcel.forbidden;
  }
}

@Injectable()
class MarkPiped implements PipeTransform {
  transform(value: unknown): unknown {
    if (value instanceof RedisStreamsContext) return value;
    seen.push(`pipe ${(value as Parcel).id}`);
    return { ...(value as Parcel), piped: true };
  }
}

@Injectable()
class Around implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const parcel = context.switchToRpc().getData<Parcel>();
    seen.push(`before ${parcel.id} ${context.getType()}`);
    return next.handle().pipe(tap(() => seen.push(`after ${parcel.id}`)));
  }
}

@Catch()
class RecordingFilter extends BaseRpcExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<unknown> {
    seen.push(`filter ${(exception as Error).message}`);
    return super.catch(exception, host);
  }
}

describe('ServerRedisStreams and ClientRedisStreams: events', () => {
  const bus = testBusOptions();
  let redis: Redis;
  let namespace: string;
  let client: ClientRedisStreams;
  const closing: Array<{ close(): Promise<unknown> }> = [];

  beforeAll(() => {
    redis = testRedisClient();
  });

  beforeEach(() => {
    runs = [];
    started = [];
    seen = [];
    AuditController.failuresLeft = 0;
    ParcelController.cursed.clear();
    namespace = testNamespace('transport');
    client = transportClient(bus.redis, namespace, bus.partitions);
  });

  afterEach(async () => {
    await Promise.all(closing.splice(0).map((app) => app.close()));
    await client.close();
  });

  afterAll(async () => {
    await redis.quit();
  });

  async function service(
    group: string,
    instance: string,
    controllers: Array<new (...args: never[]) => unknown> = [NotificationController],
    extra: Partial<Parameters<typeof startService>[0]> = {},
  ): Promise<INestMicroservice> {
    const { app } = await startService({ ...bus, namespace, group, instance, controllers, ...extra });
    closing.push(app);
    return app;
  }

  function emitParcel(parcel: Parcel): Promise<PublishedEvent> {
    return lastValueFrom(
      client.emit<PublishedEvent>('parcel.sent', new RedisStreamsRecord(parcel, { subject: parcel.id })),
    );
  }

  /** Every parcel of `ids` handled exactly once by `group`'s instances (whose names start with `prefix`). */
  function expectEachOnce(ids: string[], prefix: string): void {
    const handled = runs.filter((r) => r.instance.startsWith(prefix)).map((r) => (r.data as Parcel).id);
    expect(handled.sort()).toEqual([...ids].sort());
  }

  it('emit() resolves once the entry is written, and the @EventPattern handler gets the payload and its context', async () => {
    await service('notifier', 'n1');
    const published = await lastValueFrom(client.emit<PublishedEvent>('notification', true));
    expect(published).toMatchObject({
      stream: 'notification',
      envelope: { type: 'notification', source: 'nest-client' },
    });
    expect(published.entryId).toMatch(/^\d+-\d+$/);
    await waitFor('the handler ran', () => runs.length === 1);
    expect(runs[0]).toEqual({
      instance: 'n1',
      pattern: 'notification',
      data: true,
      entryId: published.entryId,
      stream: 'notification',
      group: 'notifier',
      deliveryCount: 1,
      eventId: published.envelope.id,
      redrive: false,
      partition: expect.any(Number),
    });
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'notification', 'notifier')) === 0);
  });

  it('10 concurrent emits each resolve with their own entry, and each is handled exactly once', async () => {
    await service('adder', 'a1');
    const inputs = Array.from({ length: 10 }, (_, i) => [i, i + 1, i + 2]);
    const published = await Promise.all(
      inputs.map((data, i) =>
        lastValueFrom(client.emit<PublishedEvent>('sum.requested', new RedisStreamsRecord(data, { subject: `s${i}` }))),
      ),
    );
    // NOTE: entry ids are per stream key: with partitions, two events may share one in different partitions.
    expect(new Set(published.map((p) => p.envelope.id)).size).toBe(10);
    expect(published.map((p) => p.envelope.subject)).toEqual(inputs.map((_, i) => `s${i}`));
    await waitFor('10 handled', () => runs.length >= 10);
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'sum.requested', 'adder')) === 0);
    expect(runs.map((r) => `${r.eventId} ${r.entryId}`).sort()).toEqual(
      published.map((p) => `${p.envelope.id} ${p.entryId}`).sort(),
    );
    expect(runs.map((r) => r.data).sort()).toEqual([...inputs].sort());
  });

  it('runs every handler of a pattern; when one fails the pattern is retried, and the entry is acknowledged once all succeeded', async () => {
    AuditController.failuresLeft = 1;
    await service('audited', 'x1', [NotificationController, AuditController]);
    const published = await lastValueFrom(client.emit<PublishedEvent>('notification', { text: 'hello' }));
    await waitFor('both handlers succeeded', () => runs.some((r) => r.instance === 'x1/audit'));
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'notification', 'audited')) === 0);
    const audit = runs.filter((r) => r.instance === 'x1/audit');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ deliveryCount: 2, data: { text: 'hello' }, eventId: published.envelope.id });
    // NOTE: Nest chains the handlers of a pattern into one; a retry runs the chain again.
    expect(runs.filter((r) => r.instance === 'x1').map((r) => r.deliveryCount)).toEqual([1, 2]);
  });

  it('a disconnected client: emit() rejects with PublishFailedError within publishTimeoutMs, connect() rejects, nothing hangs', async () => {
    const port = await freePort();
    const offline = new ClientRedisStreams({ redis: `redis://127.0.0.1:${port}`, namespace, publishTimeoutMs: 400 });
    closing.push(offline);
    const statuses: string[] = [];
    offline.status.subscribe((s) => statuses.push(s));
    const began = Date.now();
    const failure = await lastValueFrom(offline.emit('notification', { text: 'lost?' })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PublishFailedError);
    expect((failure as PublishFailedError).eventIds).toHaveLength(1);
    expect(Date.now() - began).toBeLessThan(2_000);
    await expect(offline.connect()).rejects.toThrow(/did not answer within 400 ms/);
    expect(statuses).toContain('reconnecting');
    expect(() => offline.unwrap()).not.toThrow();
  });

  it('a server whose Redis is unreachable fails listen() instead of starting, and stops trying to connect', async () => {
    const port = await freePort();
    await expect(
      startService({
        redis: `redis://127.0.0.1:${port}`,
        namespace,
        group: 'nowhere',
        instance: 'w1',
        controllers: [NotificationController],
      }),
    ).rejects.toThrow(/ECONNREFUSED|Connection is closed/);
    const server = new ServerRedisStreams({ redis: `redis://127.0.0.1:${port}`, namespace, group: 'nowhere' });
    let attempts = 0;
    server.on('reconnecting', () => attempts++);
    const failure = await new Promise<unknown>((resolve) => void server.listen(resolve));
    expect(String(failure)).toMatch(/ECONNREFUSED|Connection is closed/);
    const attemptsAtFailure = attempts;
    // NOTE: a live connection would have tried again within 300 ms (the retry strategy waits 100 ms, then 200 ms).
    await new Promise((r) => setTimeout(r, 600));
    expect(attempts).toBe(attemptsAtFailure);
  });

  it('applies global guards, pipes, interceptors and exception filters; a refused event is retried, then dead-lettered, not acknowledged', async () => {
    await service('enhanced', 'e1', [ParcelController], {
      configure: (app) => {
        app.useGlobalGuards(new ForbidFlagged());
        app.useGlobalPipes(new MarkPiped());
        app.useGlobalInterceptors(new Around());
        app.useGlobalFilters(new RecordingFilter());
      },
    });
    await emitParcel({ id: 'ok' });
    await emitParcel({ id: 'no', forbidden: true });
    await waitFor(
      'the refused parcel dead-lettered',
      async () => (await deadLetterCount(redis, namespace, 'parcel.sent')) === 1,
    );
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'parcel.sent', 'enhanced')) === 0);
    expect(parcelRuns('ok')).toHaveLength(1);
    expect(parcelRuns('ok')[0].data).toEqual({ id: 'ok', piped: true });
    expect(parcelRuns('no')).toEqual([]);
    const ok = seen.filter((s) => s.includes(' ok'));
    expect(ok).toEqual(['guard ok', 'before ok rpc', 'pipe ok', 'after ok']);
    expect(seen.filter((s) => s === 'guard no')).toHaveLength(FAST_CONSUMER.retry!.maxAttempts!);
    expect(seen.filter((s) => s === 'filter Forbidden resource')).toHaveLength(FAST_CONSUMER.retry!.maxAttempts!);
    const letters = await deadLetters().list('parcel.sent');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      reason: 'handler-failed',
      group: 'enhanced',
      attempts: 3,
      error: 'Forbidden resource',
    });
  });

  it('a throwing handler is retried with backoff, then dead-lettered while the rest flows; a redrive reaches the group once fixed', async () => {
    await service('parcels', 'p1', [ParcelController]);
    const ids = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const cursed = ['p3', 'p17', 'p31'];
    cursed.forEach((id) => ParcelController.cursed.add(id));
    for (const id of ids) await emitParcel({ id, cursed: cursed.includes(id), flaky: id === 'p8' });
    const good = ids.filter((id) => !cursed.includes(id));
    await waitFor(
      'the cursed parcels dead-lettered',
      async () => (await deadLetterCount(redis, namespace, 'parcel.sent')) === 3,
    );
    await waitFor('the rest handled', () => good.every((id) => parcelRuns(id).length > 0));
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'parcel.sent', 'parcels')) === 0);
    expectEachOnce(good, 'p1');
    expect(parcelRuns('p8')[0].deliveryCount).toBe(2);
    const letters = await deadLetters().list('parcel.sent');
    expect(letters.map((l) => (JSON.parse(l.envelope.data) as Parcel).id).sort()).toEqual([...cursed].sort());
    for (const letter of letters) {
      expect(letter).toMatchObject({
        reason: 'handler-failed',
        group: 'parcels',
        consumer: 'p1',
        handler: '@EventPattern(parcel.sent)',
        attempts: 3,
        type: 'parcel.sent',
        // NOTE: what Nest's exception filter makes of a plain Error (RpcExceptionsHandler logs the original).
        error: 'Internal server error',
      });
    }
    ParcelController.cursed.clear();
    expect(await deadLetters().redrive('parcel.sent', { group: 'parcels' })).toBe(3);
    await waitFor('the redriven parcels handled', () => cursed.every((id) => parcelRuns(id).length > 0));
    expectEachOnce(ids, 'p1');
    expect(cursed.flatMap((id) => parcelRuns(id)).every((r) => r.redrive)).toBe(true);
  });

  it('an RpcException carrying an UnrecoverableError dead-letters at once; an event emitted in a handler carries its correlation', async () => {
    CustomerController.client = client;
    await service('customers', 'c1', [CustomerController]);
    await lastValueFrom(client.emit('customer.seen', { id: 'nobody' }));
    const first = await lastValueFrom(client.emit<PublishedEvent>('customer.seen', { id: 'ada' }));
    await waitFor('dead-lettered', async () => (await deadLetterCount(redis, namespace, 'customer.seen')) === 1);
    await waitFor('the follow-up handled', () => runs.some((r) => r.pattern === 'customer.welcomed'));
    const [letter] = await deadLetters().list('customer.seen');
    expect(letter).toMatchObject({ reason: 'unknown-customer', error: 'no such customer', attempts: 1 });
    const welcomed = runs.find((r) => r.pattern === 'customer.welcomed')!;
    const [entry] = await redis.xrange(
      testKeys(namespace).stream('customer.welcomed', welcomed.partition),
      welcomed.entryId,
      welcomed.entryId,
    );
    const fields = entry[1];
    const field = (name: string) => fields[fields.indexOf(name) + 1];
    expect(field('correlationid')).toBe(first.envelope.id);
    expect(field('causationid')).toBe(first.envelope.id);
  });

  it('events emitted while no server runs are handled once one starts, each exactly once', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `late${i}`);
    for (const id of ids) await emitParcel({ id });
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toEqual([]);
    await service('latecomer', 'l1', [ParcelController]);
    await waitFor('all handled', () => runs.length >= ids.length);
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'parcel.sent', 'latecomer')) === 0);
    expectEachOnce(ids, 'l1');
  });

  it('two services each get every event, while two instances of one service share them', async () => {
    const tuning = { consumer: { ...FAST_CONSUMER, batchSize: 4, concurrency: 2 } };
    await service('billing', 'billing-1', [ParcelController], tuning);
    await service('billing', 'billing-2', [ParcelController], tuning);
    await service('shipping', 'shipping-1', [ParcelController], tuning);
    // NOTE: with partitions, the second billing instance takes its share of the leases first.
    if (bus.partitions > 1) await new Promise((r) => setTimeout(r, 1_500));
    const ids = Array.from({ length: 80 }, (_, i) => `q${i}`);
    await Promise.all(ids.map((id) => emitParcel({ id, slowMs: 10 })));
    await waitFor('every event handled by both services', () => runs.length >= 2 * ids.length, 20_000);
    for (const group of ['billing', 'shipping'])
      await waitFor(
        `${group} acknowledged`,
        async () => (await pendingCount(redis, namespace, 'parcel.sent', group)) === 0,
      );
    expectEachOnce(ids, 'billing-');
    expectEachOnce(ids, 'shipping-');
    const share = (instance: string) => runs.filter((r) => r.instance === instance).length;
    expect(share('billing-1')).toBeGreaterThan(0);
    expect(share('billing-2')).toBeGreaterThan(0);
    expect(share('billing-1') + share('billing-2')).toBe(ids.length);
  }, 30_000);

  it('events of one subject run one after another in emit order, across two instances with partitions', async () => {
    LedgerController.spans = [];
    // NOTE: its own partition count (the namespace is the test's): per-subject order across instances needs partitions.
    const partitioned = { partitions: 4 };
    await service('ledger', 'ledger-1', [LedgerController], partitioned);
    await service('ledger', 'ledger-2', [LedgerController], partitioned);
    await new Promise((r) => setTimeout(r, 1_500));
    const ordered = transportClient(bus.redis, namespace, 4);
    closing.push(ordered);
    const accounts = ['acc-a', 'acc-b', 'acc-c', 'acc-d', 'acc-e', 'acc-f'];
    const perAccount = 15;
    for (let seq = 0; seq < perAccount; seq++) {
      await Promise.all(
        accounts.map((account) =>
          lastValueFrom(ordered.emit('ledger.step', new RedisStreamsRecord({ account, seq }, { subject: account }))),
        ),
      );
    }
    const total = accounts.length * perAccount;
    await waitFor('every step handled', () => LedgerController.spans.length >= total, 20_000);
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'ledger.step', 'ledger')) === 0);
    expect(LedgerController.spans).toHaveLength(total);
    for (const account of accounts) {
      const spans = LedgerController.spans.filter((s) => s.account === account).sort((a, b) => a.start - b.start);
      expect(spans.map((s) => s.seq)).toEqual(Array.from({ length: perAccount }, (_, i) => i));
      for (let i = 1; i < spans.length; i++) expect(spans[i].start).toBeGreaterThanOrEqual(spans[i - 1].end);
    }
    expect(new Set(LedgerController.spans.map((s) => s.instance)).size).toBe(2);
  }, 30_000);

  it('close() drains: a handler running at close finishes and its entry is acknowledged; SIGTERM listeners are removed', async () => {
    const listenersBefore = process.listenerCount('SIGTERM');
    const app = await service('drainer', 'd1', [ParcelController], { configure: (a) => a.enableShutdownHooks() });
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore + 1);
    await emitParcel({ id: 'slow', slowMs: 600 });
    await waitFor('the handler started', () => started.includes('d1 slow'));
    const closingAt = Date.now();
    await app.close();
    closing.splice(closing.indexOf(app), 1);
    expect(Date.now() - closingAt).toBeGreaterThanOrEqual(300);
    expect(parcelRuns('slow')).toHaveLength(1);
    expect(await pendingCount(redis, namespace, 'parcel.sent', 'drainer')).toBe(0);
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore);
  });

  it('close() past shutdownTimeoutMs returns and leaves the entry pending; another instance claims and handles it', async () => {
    const app = await service('impatient', 'i1', [ParcelController], {
      consumer: { ...FAST_CONSUMER, shutdownTimeoutMs: 200 },
    });
    await emitParcel({ id: 'stuck', slowMs: 2_500 });
    await waitFor('the handler started', () => started.includes('i1 stuck'));
    const closingAt = Date.now();
    await app.close();
    closing.splice(closing.indexOf(app), 1);
    expect(Date.now() - closingAt).toBeLessThan(2_000);
    expect(parcelRuns('stuck')).toEqual([]);
    expect(await pendingCount(redis, namespace, 'parcel.sent', 'impatient')).toBe(1);
    await service('impatient', 'i2', [ParcelController]);
    await waitFor('claimed and handled by i2', () => parcelRuns('stuck', 'i2').length === 1, 15_000);
    expect(parcelRuns('stuck', 'i2')[0].deliveryCount).toBeGreaterThanOrEqual(2);
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'parcel.sent', 'impatient')) === 0);
  }, 30_000);

  it('runs handlers inside the processing hooks: an AsyncLocalStorage store a start hook opens reaches the handler', async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const store = new AsyncLocalStorage<string>();
    const stores: Array<string | undefined> = [];
    const { app, server } = await startService({
      ...bus,
      namespace,
      group: 'hooked',
      instance: 'h1',
      controllers: [HookedController],
    });
    closing.push(app);
    HookedController.store = () => store.getStore();
    server.setOnProcessingStartHook((_transport, context, done) => {
      void store.run(`request ${(context as RedisStreamsContext).getEnvelope().id}`, done);
    });
    server.setOnProcessingEndHook(() => stores.push('end'));
    const published = await lastValueFrom(client.emit<PublishedEvent>('hooked', { n: 1 }));
    await waitFor('handled', () => HookedController.seen.length === 1);
    expect(HookedController.seen).toEqual([`request ${published.envelope.id}`]);
    await waitFor('the end hook ran', () => stores.length === 1);
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'hooked', 'hooked')) === 0);
  });

  it('status, on() and unwrap(): unwrap() throws before listen(), listeners queued by on() fire, status says connected', async () => {
    const server = new ServerRedisStreams({ ...bus, namespace, group: 'lifecycle', metrics: false });
    closing.push({ close: () => server.close() });
    const statuses: string[] = [];
    server.status.subscribe((s) => statuses.push(s));
    let readyEvents = 0;
    server.on('ready', () => readyEvents++);
    expect(() => server.unwrap()).toThrow(/not listening yet/);
    await new Promise<void>((resolve, reject) => void server.listen((error) => (error ? reject(error) : resolve())));
    expect(readyEvents).toBe(1);
    expect(statuses).toEqual(['connected']);
    expect(await server.unwrap<Redis>().ping()).toBe('PONG');
    await server.close();
    expect(statuses).toEqual(['connected', 'disconnected']);
  });

  it('works as a ClientsModule.register({ customClass }) client, and counts in the library metrics', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    await service('metered', 'm1', [NotificationController], {
      server: { metrics: { registry, processMetrics: false } },
    });
    @Module({
      imports: [
        ClientsModule.register([
          {
            name: 'EVENTS',
            customClass: ClientRedisStreams,
            options: { ...bus, namespace, metrics: false, source: 'registered-client' },
          },
        ]),
      ],
    })
    class ClientModule {}
    const app = await NestFactory.createApplicationContext(ClientModule, { logger: ['error'] });
    closing.push(app);
    const registered = app.get<ClientRedisStreams>('EVENTS');
    expect(registered).toBeInstanceOf(ClientRedisStreams);
    const published = await lastValueFrom(registered.emit<PublishedEvent>('notification', { via: 'ClientsModule' }));
    expect(published.envelope.source).toBe('registered-client');
    await waitFor('handled', () => runs.length === 1);
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'notification', 'metered')) === 0);
    const text = await registry.metrics();
    expect(text).toMatch(/eventbus_events_acked_total\{[^}]*group="metered"[^}]*\} 1/);
    expect(text).toMatch(/eventbus_events_delivered_total\{[^}]*stream="notification"[^}]*\} 1/);
  });

  describe('interop with the library', () => {
    @Injectable()
    class LibraryHandlers {
      @Subscribe(ParcelOrdered, { group: 'library' })
      onParcel(parcel: ParcelOrdered, ctx: EventContext): void {
        runs.push({
          instance: 'library',
          pattern: '-',
          data: { ...parcel, subject: ctx.envelope.subject },
          entryId: ctx.entryId,
          stream: ctx.stream,
          group: ctx.group,
          deliveryCount: ctx.deliveryCount,
          eventId: ctx.envelope.id,
          redrive: ctx.redrive,
          partition: ctx.partition,
        });
      }
    }

    async function libraryApp(consume: boolean): Promise<INestApplicationContext> {
      @Module({
        imports: [
          EventBusModule.forRoot({ ...bus, namespace, consume, consumer: FAST_CONSUMER, metrics: false }),
          EventBusModule.forFeature({ group: 'library', source: 'library-service' }),
        ],
        providers: consume ? [LibraryHandlers] : [],
      })
      class LibraryModule {}
      const app = await NestFactory.createApplicationContext(LibraryModule, { logger: ['error'] });
      await app.init();
      closing.push(app);
      return app;
    }

    it('an event the library publishes reaches an @EventPattern handler', async () => {
      await service('transported', 't1', [ParcelOrderedController]);
      const lib = await libraryApp(false);
      const published = await lib.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'lib-1', weight: 3 }));
      await waitFor('the transport handler ran', () => runs.length === 1);
      expect(runs[0]).toMatchObject({
        instance: 't1',
        pattern: '{"stream":"parcels","type":"ParcelOrdered"}',
        data: { parcelId: 'lib-1', weight: 3 },
        stream: 'parcels',
        group: 'transported',
        eventId: published.envelope.id,
      });
      await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'parcels', 'transported')) === 0);
    });

    it('an event emitted through the transport reaches a @Subscribe handler, validated against its contract', async () => {
      await libraryApp(true);
      const published = await lastValueFrom(
        client.emit<PublishedEvent>(eventPattern(ParcelOrdered), { parcelId: 'nest-1', weight: 2 }),
      );
      expect(published.envelope).toMatchObject({ type: 'ParcelOrdered', version: 1, subject: 'nest-1' });
      await waitFor('the library handler ran', () => runs.length === 1);
      expect(runs[0]).toMatchObject({
        instance: 'library',
        data: { parcelId: 'nest-1', weight: 2, subject: 'nest-1' },
        group: 'library',
        eventId: published.envelope.id,
      });
      await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'parcels', 'library')) === 0);
    });
  });

  /** The dead letters of the test's namespace (a core of its own, closed with the test's apps). */
  function deadLetters(): DeadLetterService {
    const core = new EventBusCore({ ...bus, namespace, consume: false, metrics: false });
    closing.push({ close: () => core.onApplicationShutdown() });
    return new DeadLetterService(core);
  }
});
