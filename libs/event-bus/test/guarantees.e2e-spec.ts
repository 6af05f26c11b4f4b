import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type Redis from 'ioredis';
import {
  ConsumerTuning,
  DeadLetterService,
  EventBusModule,
  EventContext,
  EventPublisher,
  GroupAdminService,
  ReplayService,
  Subscribe,
  UnrecoverableError,
} from '@nest-streams/event-bus';
import { EventBusExplorer } from '@nest-streams/event-bus/event-bus.explorer';
import { ParcelOrdered, ParcelShipped } from './fixtures/fixture-events';
import { abortTransactions } from '../../../test/support/aborted-transactions';
import { readEvents, slotKey } from '../../../test/support/streams';
import {
  itIf,
  keysMatching,
  pendingCount,
  streamLength,
  testBusOptions,
  testKeys,
  testNamespace,
  testPartitions,
  testRedisClient,
  waitFor,
} from '../../../test/support/redis';

/** What the handlers of one test do; each group's handler consults it. */
class Script {
  runs: Array<{ group: string; parcelId: string; attempt: number; at: number; consumer: string; redrive: boolean }> =
    [];
  running = new Map<string, number>();
  maxConcurrentSameEntry = 0;
  /** parcel id -> how many times it still fails */
  failures = new Map<string, number>();
  delayMs = new Map<string, number>();
  commitEffects = false;
  /** With commitEffects: also publish a ParcelShipped per parcel in the commit. */
  shipOnCommit = false;
  /** parcel ids whose handler throws an UnrecoverableError */
  permanent = new Set<string>();
  /** The test's namespace (where commitEffects writes). */
  namespace = '';
  /** The hashes commitEffects wrote to. */
  effectKeys = new Set<string>();
}

let script: Script;

@Injectable()
class Handlers {
  @Subscribe(ParcelOrdered, { group: 'alpha' })
  alpha(p: ParcelOrdered, ctx: EventContext): Promise<void> {
    return this.run('alpha', p, ctx);
  }

  @Subscribe(ParcelOrdered, { group: 'beta' })
  beta(p: ParcelOrdered, ctx: EventContext): Promise<void> {
    return this.run('beta', p, ctx);
  }

  private async run(group: string, p: ParcelOrdered, ctx: EventContext): Promise<void> {
    script.runs.push({
      group,
      parcelId: p.parcelId,
      attempt: ctx.deliveryCount,
      at: Date.now(),
      consumer: ctx.consumer,
      redrive: ctx.redrive,
    });
    const key = `${group}:${ctx.entryId}`;
    script.running.set(key, (script.running.get(key) ?? 0) + 1);
    script.maxConcurrentSameEntry = Math.max(script.maxConcurrentSameEntry, script.running.get(key)!);
    try {
      const delay = script.delayMs.get(p.parcelId);
      if (delay) await new Promise((r) => setTimeout(r, delay));
      const left = script.failures.get(`${group}:${p.parcelId}`) ?? 0;
      if (left > 0) {
        script.failures.set(`${group}:${p.parcelId}`, left - 1);
        throw new Error(`${group} cannot take ${p.parcelId} yet`);
      }
      if (script.permanent.has(p.parcelId))
        throw new UnrecoverableError(`${p.parcelId} names no parcel we know`, 'unknown-parcel');
      if (script.commitEffects) {
        const publish = script.shipOnCommit
          ? [{ event: new ParcelShipped({ parcelId: p.parcelId }), options: { id: `${group}:${p.parcelId}:shipped` } }]
          : [];
        const effects = slotKey(script.namespace, ctx.stream, p.parcelId, `${ctx.stream}-effects`);
        script.effectKeys.add(effects);
        await ctx.commit((tx) => tx.hincrby(effects, `${group}:${p.parcelId}`, 1), { publish });
      }
    } finally {
      script.running.set(key, script.running.get(key)! - 1);
    }
  }
}

/**
 * docs/contract.md section 2 in one process against the run's Redis (every test topology): retries with backoff, dead letters,
 * dedupe, exactly-once commits, claiming, leases, redrive. (Process kills: test/fault/.)
 */
describe('delivery guarantees (real Redis)', () => {
  let redis: Redis;
  const apps: INestApplicationContext[] = [];

  beforeAll(() => {
    redis = testRedisClient();
  });
  beforeEach(() => {
    script = new Script();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await redis.quit();
  });

  async function start(
    namespace: string,
    consumer: ConsumerTuning = {},
    consumerName?: string,
  ): Promise<INestApplicationContext> {
    script.namespace = namespace;
    @Module({
      imports: [
        EventBusModule.forRoot({
          ...testBusOptions(),
          namespace,
          consumerName,
          consumer: { blockMs: 100, retry: { initialDelayMs: 50, jitter: 0 }, ...consumer },
        }),
      ],
      providers: [Handlers],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    apps.push(app);
    return app;
  }

  const parcels = (n: number, prefix = 'P') =>
    Array.from({ length: n }, (_, i) => new ParcelOrdered({ parcelId: `${prefix}-${i}`, weight: 1 }));
  const pendingOf = (namespace: string, group: string) => pendingCount(redis, namespace, 'parcels', group);
  /** What commitEffects wrote, every hash merged. */
  const effects = async (): Promise<Record<string, string>> =>
    Object.assign({}, ...(await Promise.all([...script.effectKeys].map((k) => redis.hgetall(k)))));
  const unpartitioned = testPartitions() === 1;
  const rawGroupReads = 'reads the group with a raw XREADGROUP on the unpartitioned stream key';

  it('retries a failing handler with growing backoff, while the rest of the group flows past it', async () => {
    const ns = testNamespace('retry');
    script.failures.set('alpha:P-flaky', 2);
    // NOTE: 300 ms then 600 ms: room for the other 50 to finish first even on a loaded CI machine.
    const app = await start(ns, { retry: { initialDelayMs: 300, jitter: 0 } });
    await app.get(EventPublisher).publishMany([new ParcelOrdered({ parcelId: 'P-flaky', weight: 1 }), ...parcels(50)]);
    await waitFor(
      'flaky succeeded',
      () => script.runs.filter((r) => r.group === 'alpha' && r.parcelId === 'P-flaky').length === 3,
    );
    const flaky = script.runs.filter((r) => r.group === 'alpha' && r.parcelId === 'P-flaky');
    expect(flaky.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(flaky[1].at - flaky[0].at).toBeGreaterThanOrEqual(295);
    expect(flaky[2].at - flaky[1].at).toBeGreaterThanOrEqual(595);
    // No head-of-line blocking: the 50 others were all handled before the flaky one's 2nd attempt.
    const othersDone = Math.max(
      ...script.runs.filter((r) => r.group === 'alpha' && r.parcelId !== 'P-flaky').map((r) => r.at),
    );
    expect(othersDone).toBeLessThan(flaky[1].at);
    await waitFor('nothing pending', async () => (await pendingOf(ns, 'alpha')) === 0);
  });

  it('dead-letters after maxAttempts with error, attempts, group and handler, and the group moves on', async () => {
    const ns = testNamespace('dlq');
    script.failures.set('alpha:P-poison', 99);
    const app = await start(ns, { retry: { maxAttempts: 3, initialDelayMs: 10, jitter: 0 } });
    await app.get(EventPublisher).publishMany([new ParcelOrdered({ parcelId: 'P-poison', weight: 1 }), ...parcels(20)]);
    const letters = app.get(DeadLetterService);
    await waitFor('one dead letter', async () => (await letters.count('parcels')) === 1);
    const [letter] = await letters.list('parcels');
    expect(letter).toMatchObject({
      reason: 'handler-failed',
      error: 'alpha cannot take P-poison yet',
      group: 'alpha',
      handler: 'Handlers.alpha',
      attempts: 3,
      type: 'ParcelOrdered',
    });
    expect(JSON.parse(letter.envelope.data)).toEqual({ parcelId: 'P-poison', weight: 1 });
    expect(script.runs.filter((r) => r.group === 'alpha' && r.parcelId === 'P-poison')).toHaveLength(3);
    expect(script.runs.filter((r) => r.group === 'beta' && r.parcelId === 'P-poison')).toHaveLength(1);
    await waitFor('nothing pending', async () => (await pendingOf(ns, 'alpha')) === 0);
  });

  it('redrives a dead letter to the group that failed it and to no other', async () => {
    const ns = testNamespace('redrive');
    script.failures.set('alpha:P-r', 1);
    const app = await start(ns, { retry: { maxAttempts: 1 } });
    await app.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'P-r', weight: 1 }));
    const letters = app.get(DeadLetterService);
    await waitFor('dead letter', async () => (await letters.count('parcels')) === 1);
    await expect(letters.redrive('parcels', {})).rejects.toThrow(/all: true/);
    expect(await letters.redrive('parcels', { group: 'alpha' })).toBe(1);
    await waitFor('redriven run', () => script.runs.some((r) => r.group === 'alpha' && r.redrive));
    await new Promise((r) => setTimeout(r, 300));
    expect(
      script.runs
        .filter((r) => r.parcelId === 'P-r')
        .map((r) => `${r.group}:${r.redrive}`)
        .sort(),
    ).toEqual(['alpha:false', 'alpha:true', 'beta:false']);
    expect(await letters.count('parcels')).toBe(0);
  });

  it('lists and purges dead letters by filter', async () => {
    const ns = testNamespace('purge');
    for (const id of ['a', 'b', 'c']) script.failures.set(`alpha:P-${id}`, 9);
    script.failures.set('beta:P-a', 9);
    const app = await start(ns, { retry: { maxAttempts: 1 } });
    await app
      .get(EventPublisher)
      .publishMany(['a', 'b', 'c'].map((id) => new ParcelOrdered({ parcelId: `P-${id}`, weight: 1 })));
    const letters = app.get(DeadLetterService);
    await waitFor('four dead letters', async () => (await letters.count('parcels')) === 4);
    expect((await letters.list('parcels', { group: 'beta' })).map((l) => JSON.parse(l.envelope.data).parcelId)).toEqual(
      ['P-a'],
    );
    expect(await letters.purge('parcels', { group: 'beta' })).toBe(1);
    const [first] = await letters.list('parcels');
    expect(await letters.purge('parcels', { ids: [first.id] })).toBe(1);
    expect(await letters.purge('parcels', { all: true })).toBe(2);
    expect(await letters.count('parcels')).toBe(0);
  });

  it('dedupes by event id per group: a second copy of an event (resent XADD, replay) is acknowledged without running the handler', async () => {
    const ns = testNamespace('dedupe');
    const app = await start(ns);
    const publisher = app.get(EventPublisher);
    await publisher.publish(new ParcelOrdered({ parcelId: 'P-d', weight: 1 }), { id: 'evt-fixed-1' });
    await waitFor('first copy handled by both groups', () => script.runs.length === 2);
    await publisher.publish(new ParcelOrdered({ parcelId: 'P-d', weight: 1 }), { id: 'evt-fixed-1' });
    await waitFor(
      'second copy acknowledged',
      async () => (await pendingOf(ns, 'alpha')) === 0 && (await streamLength(redis, ns, 'parcels')) === 2,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(script.runs).toHaveLength(2);
    const stats = [...app.get(EventBusExplorer).groups.values()].map((g) => g.stats.duplicates);
    expect(stats).toEqual([1, 1]);
  });

  it('two copies of one event held by two instances at once: one runs, the other waits for it and is acknowledged as a duplicate', async () => {
    const ns = testNamespace('race');
    // NOTE: what was tried: a slow handler (600 ms) on the first copy; the second copy published while it runs,
    // with two instances blocked on the group (Redis serves blocked readers first come, first served).
    script.delayMs.set('P-race', 600);
    const a = await start(ns, { batchSize: 1 }, 'inst-a');
    await start(ns, { batchSize: 1 }, 'inst-b');
    const publisher = a.get(EventPublisher);
    await publisher.publish(new ParcelOrdered({ parcelId: 'P-race', weight: 1 }), { id: 'evt-race' });
    await waitFor('first copy running in both groups', () => script.runs.length === 2);
    await publisher.publish(new ParcelOrdered({ parcelId: 'P-race', weight: 1 }), { id: 'evt-race' });
    await waitFor(
      'both copies acknowledged',
      async () =>
        (await pendingOf(ns, 'alpha')) === 0 &&
        (await pendingOf(ns, 'beta')) === 0 &&
        (await streamLength(redis, ns, 'parcels')) === 2,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(script.runs.map((r) => r.group).sort()).toEqual(['alpha', 'beta']);
    const duplicates = apps.flatMap((app) =>
      [...app.get(EventBusExplorer).groups.values()].map((g) => g.stats.duplicates),
    );
    expect(duplicates.reduce((x, y) => x + y, 0)).toBe(2);
  });

  it('a copy waits while the entry holding its event is retried, and runs once that entry is dead-lettered', async () => {
    const ns = testNamespace('heldcopy');
    // NOTE: what was tried: alpha fails the first copy twice (maxAttempts 2, 400 ms backoff); a second copy
    // published during the backoff must neither run beside it nor count as handled once the first is dead.
    script.failures.set('alpha:P-h', 2);
    const app = await start(ns, { retry: { maxAttempts: 2, initialDelayMs: 400, jitter: 0 } });
    const publisher = app.get(EventPublisher);
    await publisher.publish(new ParcelOrdered({ parcelId: 'P-h', weight: 1 }), { id: 'evt-held' });
    await waitFor('first attempt failed', () => script.runs.some((r) => r.group === 'alpha'));
    await publisher.publish(new ParcelOrdered({ parcelId: 'P-h', weight: 1 }), { id: 'evt-held' });
    await waitFor('second copy handled by alpha', () => script.runs.filter((r) => r.group === 'alpha').length === 3);
    await waitFor(
      'nothing pending',
      async () => (await pendingOf(ns, 'alpha')) === 0 && (await pendingOf(ns, 'beta')) === 0,
    );
    const alpha = script.runs.filter((r) => r.group === 'alpha');
    expect(alpha.map((r) => r.attempt)).toEqual([1, 2, 1]);
    expect(alpha[2].at).toBeGreaterThanOrEqual(alpha[1].at);
    expect(await app.get(DeadLetterService).count('parcels')).toBe(1);
    expect(script.runs.filter((r) => r.group === 'beta')).toHaveLength(1);
  });

  it('moving a group back re-delivers what it handled, and the guard skips it (markers outlive the acknowledgement)', async () => {
    const ns = testNamespace('moveback');
    const app = await start(ns);
    await app.get(EventPublisher).publishMany(parcels(3, 'M'));
    await waitFor('handled by both groups', () => script.runs.length === 6);
    await waitFor('nothing pending', async () => (await pendingOf(ns, 'alpha')) === 0);
    for (const key of testKeys(ns).streamKeys('parcels'))
      if (await redis.exists(key)) await redis.xgroup('SETID', key, 'alpha', '0');
    await waitFor(
      'alpha read them again',
      async () =>
        (await pendingOf(ns, 'alpha')) === 0 &&
        [...app.get(EventBusExplorer).groups.values()].some((g) => g.group === 'alpha' && g.stats.duplicates === 3),
    );
    expect(script.runs.filter((r) => r.group === 'alpha')).toHaveLength(3);
  });

  it('moving a group back over an entry still pending releases its claim first, so its redelivery is not skipped as handled', async () => {
    const ns = testNamespace('movepending');
    script.delayMs.set('P-slow', 700);
    const app = await start(ns);
    await app.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'P-slow', weight: 1 }), { id: 'evt-slow' });
    await waitFor('alpha running it', () => script.runs.some((r) => r.group === 'alpha'));
    const [bucket] = (
      await Promise.all(
        testKeys(ns)
          .streamKeys('parcels')
          .map((key) => keysMatching(redis, `${key}:seen:alpha:*`)),
      )
    ).flat();
    expect(await redis.hget(bucket, 'evt-slow')).toMatch(/^~l\d+-\d+@\d+$/);
    await app.get(ReplayService).moveGroup('parcels', 'alpha', { id: '0' });
    expect(await redis.hget(bucket, 'evt-slow')).toBeNull();
    await waitFor('nothing pending', async () => (await pendingOf(ns, 'alpha')) === 0);
  });

  it('commit(): the effect, the processed marker and the XACK land together, so effects apply once under redelivery', async () => {
    const ns = testNamespace('commit');
    script.commitEffects = true;
    script.failures.set('alpha:P-c', 1);
    const app = await start(ns);
    const publisher = app.get(EventPublisher);
    await publisher.publish(new ParcelOrdered({ parcelId: 'P-c', weight: 1 }), { id: 'evt-commit' });
    await publisher.publish(new ParcelOrdered({ parcelId: 'P-c', weight: 1 }), { id: 'evt-commit' });
    await waitFor('effects', async () => Object.keys(await effects()).length >= 2);
    await waitFor('nothing pending', async () => (await pendingOf(ns, 'alpha')) === 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(await effects()).toMatchObject({ 'alpha:P-c': '1', 'beta:P-c': '1' });
  });

  it('commit({ publish }): effect, events, marker and XACK are one transaction; one Redis refused leaves none of them, its retry lands them once', async () => {
    // Tried: Redis discarding alpha's first commit (EXECABORT), and a second copy of the event.
    const ns = testNamespace('commitpub');
    script.commitEffects = true;
    script.shipOnCommit = true;
    const aborted = abortTransactions((events) =>
      events.some((e) => (e as { options?: { id?: string } }).options?.id === 'alpha:P-s:shipped'),
    );
    try {
      const app = await start(ns);
      const publisher = app.get(EventPublisher);
      const ordered = await publisher.publish(new ParcelOrdered({ parcelId: 'P-s', weight: 1 }), { id: 'evt-ship' });
      await publisher.publish(new ParcelOrdered({ parcelId: 'P-s', weight: 1 }), { id: 'evt-ship' });
      await waitFor('both groups committed', async () => Object.keys(await effects()).length === 2);
      await waitFor(
        'nothing pending',
        async () => (await pendingOf(ns, 'alpha')) + (await pendingOf(ns, 'beta')) === 0,
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(aborted.refused()).toBe(1);
      expect(await effects()).toEqual({ 'alpha:P-s': '1', 'beta:P-s': '1' });
      const shipped = await readEvents(redis, ns, 'parcels', 'ParcelShipped');
      expect(shipped.map((e) => e.id).sort()).toEqual(['alpha:P-s:shipped', 'beta:P-s:shipped']);
      // The published events carry the handled event's correlation and causation.
      for (const e of shipped)
        expect(e).toMatchObject({ causationid: ordered.envelope.id, correlationid: ordered.envelope.id });
      expect(script.runs.filter((r) => r.group === 'alpha').map((r) => r.attempt)).toEqual([1, 2]);
      expect(script.runs.filter((r) => r.group === 'beta')).toHaveLength(1);
    } finally {
      aborted.restore();
    }
  });

  it('publish({ with }): the state writes and the event land in one MULTI, or neither does', async () => {
    // Tried: one publish Redis takes, one it refuses (EXECABORT).
    const ns = testNamespace('outbox');
    const app = await start(ns, {}, undefined);
    const publisher = app.get(EventPublisher);
    await publisher.publish(new ParcelShipped({ parcelId: 'P-o1' }), {
      with: (tx) => tx.set(slotKey(ns, 'parcels', 'P-o1', 'state:P-o1'), 'shipped'),
    });
    const aborted = abortTransactions(() => true);
    try {
      await expect(
        publisher.publish(new ParcelShipped({ parcelId: 'P-o2' }), {
          with: (tx) => tx.set(slotKey(ns, 'parcels', 'P-o2', 'state:P-o2'), 'shipped'),
        }),
      ).rejects.toThrow(/EXECABORT/);
    } finally {
      aborted.restore();
    }
    expect(await redis.get(slotKey(ns, 'parcels', 'P-o1', 'state:P-o1'))).toBe('shipped');
    expect(await redis.get(slotKey(ns, 'parcels', 'P-o2', 'state:P-o2'))).toBeNull();
    expect(
      (await readEvents<{ parcelId: string }>(redis, ns, 'parcels', 'ParcelShipped')).map((e) => e.data.parcelId),
    ).toEqual(['P-o1']);
  });

  it('an entry an operator dead-letters while it waits out a long backoff stops holding its subject at the next lease renewal', async () => {
    // Tried: a 30 s backoff, the entry dead-lettered by GroupAdminService meanwhile, then a later event of the same subject.
    const ns = testNamespace('abandon');
    script.failures.set('alpha:P-stuck', 1);
    const app = await start(ns, { claimTimeoutMs: 900, retry: { initialDelayMs: 30_000, jitter: 0 } });
    const publisher = app.get(EventPublisher);
    const first = await publisher.publish(new ParcelOrdered({ parcelId: 'P-stuck', weight: 1 }));
    await waitFor('alpha failed once', () => script.runs.some((r) => r.group === 'alpha' && r.parcelId === 'P-stuck'));
    await app.get(GroupAdminService).deadLetterPending('parcels', 'alpha', first.entryId, { reason: 'operator' });
    const began = Date.now();
    await publisher.publish(new ParcelOrdered({ parcelId: 'P-stuck', weight: 2 }));
    await waitFor(
      'the next event of the subject handled',
      () => script.runs.filter((r) => r.group === 'alpha' && r.parcelId === 'P-stuck').length === 2,
      10_000,
    );
    // Lease renewal runs every claimTimeoutMs / 3 (300 ms): far sooner than the 30 s backoff.
    expect(Date.now() - began).toBeLessThan(5_000);
    await waitFor('nothing pending', async () => (await pendingOf(ns, 'alpha')) === 0);
    // The abandoned delivery did not run again after its backoff.
    expect(script.runs.filter((r) => r.group === 'alpha' && r.parcelId === 'P-stuck').map((r) => r.attempt)).toEqual([
      1, 1,
    ]);
  });

  it('an UnrecoverableError is dead-lettered after one attempt with its reason, while the rest flows', async () => {
    const ns = testNamespace('unrecoverable');
    script.permanent.add('P-bad');
    const app = await start(ns, { retry: { maxAttempts: 5, initialDelayMs: 10, jitter: 0 } });
    await app.get(EventPublisher).publishMany([new ParcelOrdered({ parcelId: 'P-bad', weight: 1 }), ...parcels(10)]);
    const letters = app.get(DeadLetterService);
    await waitFor('two dead letters (alpha and beta)', async () => (await letters.count('parcels')) === 2);
    const list = await letters.list('parcels');
    expect(
      list
        .map((l) => ({ group: l.group, reason: l.reason, attempts: l.attempts, error: l.error }))
        .sort((a, b) => a.group.localeCompare(b.group)),
    ).toEqual([
      { group: 'alpha', reason: 'unknown-parcel', attempts: 1, error: 'P-bad names no parcel we know' },
      { group: 'beta', reason: 'unknown-parcel', attempts: 1, error: 'P-bad names no parcel we know' },
    ]);
    expect(script.runs.filter((r) => r.parcelId === 'P-bad')).toHaveLength(2);
    await waitFor('the rest handled', () => script.runs.filter((r) => r.parcelId !== 'P-bad').length === 20);
    await waitFor('nothing pending', async () => (await pendingOf(ns, 'alpha')) + (await pendingOf(ns, 'beta')) === 0);
  });

  itIf(unpartitioned, rawGroupReads)(
    "claims a dead consumer's pending entries after the claim timeout, then removes the consumer",
    async () => {
      const ns = testNamespace('claim');
      const key = testKeys(ns).stream('parcels');
      // A consumer that read 10 entries and died: a raw XREADGROUP that never acknowledges.
      await redis.xgroup('CREATE', key, 'alpha', '0', 'MKSTREAM');
      @Module({ imports: [EventBusModule.forRoot({ ...testBusOptions(), namespace: ns, consume: false })] })
      class PublishOnly {}
      const pub = await NestFactory.createApplicationContext(PublishOnly, { logger: ['error'] });
      apps.push(pub);
      await pub.get(EventPublisher).publishMany(parcels(10, 'G'));
      const taken = (await redis.xreadgroup('GROUP', 'alpha', 'ghost', 'COUNT', 10, 'STREAMS', key, '>')) as Array<
        [string, unknown[]]
      >;
      expect(taken[0][1]).toHaveLength(10);
      const began = Date.now();
      await start(ns, { claimTimeoutMs: 500, claimIntervalMs: 200, deadConsumerIdleMs: 1000 }, 'live');
      await waitFor(
        'ghost entries handled by live',
        () => script.runs.filter((r) => r.group === 'alpha' && r.parcelId.startsWith('G-')).length === 10,
      );
      const elapsed = Date.now() - began;
      expect(elapsed).toBeGreaterThanOrEqual(400);
      expect(elapsed).toBeLessThan(500 + 200 + 1500);
      expect(
        script.runs.filter((r) => r.group === 'alpha').every((r) => r.consumer === 'live' && r.attempt === 2),
      ).toBe(true);
      await waitFor(
        'ghost removed',
        async () => {
          const consumers = (await redis.xinfo('CONSUMERS', key, 'alpha')) as unknown[][];
          return consumers.every((c) => c[1] !== 'ghost');
        },
        5000,
      );
    },
  );

  it('keeps a lease on a handler slower than the claim timeout: a second instance does not run it at the same time', async () => {
    const ns = testNamespace('lease');
    script.delayMs.set('P-slow', 1500);
    const a = await start(ns, { claimTimeoutMs: 300, claimIntervalMs: 100, batchSize: 1 }, 'a');
    await start(ns, { claimTimeoutMs: 300, claimIntervalMs: 100, batchSize: 1 }, 'b');
    await a.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'P-slow', weight: 1 }));
    await waitFor(
      'slow done in both groups',
      async () =>
        (await pendingOf(ns, 'alpha')) === 0 && (await pendingOf(ns, 'beta')) === 0 && script.runs.length >= 2,
      8000,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(script.maxConcurrentSameEntry).toBe(1);
    expect(
      script.runs
        .filter((r) => r.parcelId === 'P-slow')
        .map((r) => r.group)
        .sort(),
    ).toEqual(['alpha', 'beta']);
  });

  itIf(unpartitioned, rawGroupReads)(
    'counts entries trimmed while pending instead of crashing, and keeps consuming',
    async () => {
      const ns = testNamespace('trim');
      const key = testKeys(ns).stream('parcels');
      await redis.xgroup('CREATE', key, 'alpha', '0', 'MKSTREAM');
      await redis.xgroup('CREATE', key, 'beta', '0', 'MKSTREAM');
      await redis.xadd(
        key,
        '*',
        'specversion',
        '1.0',
        'id',
        'x',
        'type',
        'ParcelOrdered',
        'source',
        'raw',
        'time',
        new Date().toISOString(),
        'datacontenttype',
        'application/json',
        'data',
        '{"parcelId":"T-0","weight":1}',
      );
      await redis.xreadgroup('GROUP', 'alpha', 'ghost', 'COUNT', 10, 'STREAMS', key, '>');
      await redis.xreadgroup('GROUP', 'beta', 'ghost', 'COUNT', 10, 'STREAMS', key, '>');
      await redis.xtrim(key, 'MAXLEN', 0);
      const app = await start(ns, { claimTimeoutMs: 100, claimIntervalMs: 100 }, 'live');
      await waitFor('trimmed entries noticed', () =>
        [...app.get(EventBusExplorer).groups.values()].every((g) => g.stats.trimmedWhilePending === 1),
      );
      await app.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'T-1', weight: 1 }));
      await waitFor('later event handled', () => script.runs.filter((r) => r.parcelId === 'T-1').length === 2);
    },
  );

  it('recreates its group when the stream vanishes (Redis restarted without persistence) and goes on', async () => {
    const ns = testNamespace('nogroup');
    const app = await start(ns, { blockMs: 50 });
    await Promise.all(
      testKeys(ns)
        .streamKeys('parcels')
        .map((key) => redis.del(key)),
    );
    await new Promise((r) => setTimeout(r, 300));
    await app.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'N-1', weight: 1 }));
    await waitFor(
      'handled after the group was recreated',
      () => script.runs.filter((r) => r.parcelId === 'N-1').length === 2,
      5000,
    );
  });
});
