import { Injectable, Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type Redis from 'ioredis';
import {
  ConsumerTuning,
  EventBusModule,
  EventContext,
  EventPublisher,
  ReplayService,
  RetentionService,
  Subscribe,
} from '@nest-streams/event-bus';
import { EventBusExplorer } from '@nest-streams/event-bus/event-bus.explorer';
import { ParcelOrdered } from './fixtures/fixture-events';
import {
  itIf,
  testBusOptions,
  testKeys,
  testNamespace,
  testPartitions,
  testRedisClient,
  waitFor,
} from '../../../test/support/redis';

const runs: Array<{ group: string; parcelId: string; replay: boolean }> = [];

@Injectable()
class Handlers {
  @Subscribe(ParcelOrdered, { group: 'alpha' })
  alpha(p: ParcelOrdered, ctx: EventContext): void {
    runs.push({ group: 'alpha', parcelId: p.parcelId, replay: ctx.replay });
  }

  @Subscribe(ParcelOrdered, { group: 'beta' })
  beta(p: ParcelOrdered, ctx: EventContext): void {
    runs.push({ group: 'beta', parcelId: p.parcelId, replay: ctx.replay });
  }
}

/** docs/contract.md sections 3 and 4 against the run's Redis (every test topology): replay to one group, group moves, retention. */
describe('replay and retention (real Redis)', () => {
  let redis: Redis;
  const apps: INestApplicationContext[] = [];

  beforeAll(() => {
    redis = testRedisClient();
  });
  beforeEach(() => {
    runs.length = 0;
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
    retentionIgnoresGroups?: string[],
    retentionMaxAgeMs?: number,
  ): Promise<INestApplicationContext> {
    @Module({
      imports: [
        EventBusModule.forRoot({
          ...testBusOptions(),
          namespace,
          retentionIntervalMs: 0,
          retentionIgnoresGroups,
          retentionMaxAgeMs,
          consumer: { blockMs: 100, ...consumer },
        }),
      ],
      providers: [Handlers],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    apps.push(app);
    return app;
  }

  const parcels = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => new ParcelOrdered({ parcelId: `${prefix}-${i}`, weight: 1 }));
  const unpartitioned = testPartitions() === 1;
  const rawKeys = 'reads and writes the unpartitioned stream key with raw commands';
  const count = (group: string, replay?: boolean) =>
    runs.filter((r) => r.group === group && (replay === undefined || r.replay === replay)).length;

  it('replays a range to one group only, marked as a replay; already-handled events are skipped unless dedupe is bypassed', async () => {
    const ns = testNamespace('replay');
    const app = await start(ns);
    await app.get(EventPublisher).publishMany(parcels(20, 'R'));
    await waitFor('both groups handled 20', () => count('alpha') === 20 && count('beta') === 20);
    const replays = app.get(ReplayService);

    const dry = await replays.run({ stream: 'parcels', target: { kind: 'handlers', group: 'alpha' }, dryRun: true });
    expect(dry).toEqual({ total: 20, done: 0, cancelled: false });

    const respected = await replays.run({ stream: 'parcels', target: { kind: 'handlers', group: 'alpha' } });
    expect(respected).toMatchObject({ total: 20, done: 20 });
    const alpha = app.get(EventBusExplorer).groups.get('alpha')!;
    await waitFor('20 duplicates skipped', () => alpha.stats.duplicates === 20);
    expect(count('alpha', true)).toBe(0);

    const progress: number[] = [];
    await replays.run(
      { stream: 'parcels', target: { kind: 'handlers', group: 'alpha' }, bypassDedupe: true },
      { onProgress: (p) => void progress.push(p.done) },
    );
    await waitFor('20 replayed runs', () => count('alpha', true) === 20);
    expect(progress[progress.length - 1]).toBe(20);
    await new Promise((r) => setTimeout(r, 200));
    expect(count('beta')).toBe(20);
    expect(count('alpha', false)).toBe(20);
  });

  it('reports progress and stops when cancelled halfway', async () => {
    const ns = testNamespace('cancel');
    const app = await start(ns, { startFrom: 'new' });
    const publisher = app.get(EventPublisher);
    for (let i = 0; i < 4; i++) await publisher.publishMany(parcels(500, `C${i}`));
    const abort = new AbortController();
    const result = await app.get(ReplayService).run(
      { stream: 'parcels', target: { kind: 'handlers', group: 'audit' }, ratePerSec: 4000 },
      {
        signal: abort.signal,
        onProgress: ({ done }) => {
          if (done >= 800) abort.abort();
        },
      },
    );
    expect(result.cancelled).toBe(true);
    expect(result.total).toBe(2000);
    expect(result.done).toBeGreaterThanOrEqual(800);
    expect(result.done).toBeLessThan(2000);
    const keys = testKeys(ns);
    const replayed = await Promise.all(keys.all.map((k) => redis.xlen(keys.replay('parcels', 'audit', k))));
    expect(replayed.reduce((x, y) => x + y, 0)).toBe(result.done);
  });

  it('moving a group back by time re-delivers exactly the entries after that time', async () => {
    const ns = testNamespace('move');
    const app = await start(ns, { dedupe: { enabled: false } });
    const publisher = app.get(EventPublisher);
    await publisher.publishMany(parcels(5, 'early'));
    await new Promise((r) => setTimeout(r, 20));
    const cut = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await publisher.publishMany(parcels(7, 'late'));
    await waitFor('12 handled', () => count('alpha') === 12);

    const replays = app.get(ReplayService);
    const preview = await replays.moveGroup('parcels', 'alpha', { time: cut }, { dryRun: true });
    expect(preview.redeliver).toBe(7);
    await replays.moveGroup('parcels', 'alpha', { time: cut });
    await waitFor('7 more', () => count('alpha') === 19);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      runs
        .filter((r) => r.group === 'alpha')
        .slice(12)
        .map((r) => r.parcelId)
        .sort(),
    ).toEqual(
      parcels(7, 'late')
        .map((p) => p.parcelId)
        .sort(),
    );
    expect(count('beta')).toBe(12);
  });

  itIf(unpartitioned, rawKeys)('builds a new group from a point in the stream', async () => {
    const ns = testNamespace('newgroup');
    const key = testKeys(ns).stream('parcels');
    const app = await start(ns);
    await app.get(EventPublisher).publishMany(parcels(6, 'N'));
    const [, third] = await redis.xrange(key, '-', '+', 'COUNT', 3).then((e) => [e[1], e[2]]);
    const result = await app
      .get(ReplayService)
      .run({ stream: 'parcels', from: third[0], target: { kind: 'new-group', group: 'projection' } });
    expect(result.total).toBe(4);
    const read = (await redis.xreadgroup('GROUP', 'projection', 'p1', 'COUNT', 100, 'STREAMS', key, '>')) as Array<
      [string, unknown[]]
    >;
    expect(read[0][1]).toHaveLength(4);
  });

  itIf(unpartitioned, rawKeys)(
    'trims by length and age without deleting what a group has not acknowledged, unless forced',
    async () => {
      const ns = testNamespace('retention');
      const key = testKeys(ns).stream('parcels');
      const app = await start(ns, { startFrom: 'new' });
      await redis.xgroup('CREATE', key, 'laggard', '0', 'MKSTREAM');
      await app.get(EventPublisher).publishMany(parcels(10, 'T'));
      await waitFor('alpha and beta done', () => count('alpha') === 10 && count('beta') === 10);
      const retention = app.get(RetentionService);
      await retention.setPolicy('parcels', { maxLength: 4 });
      expect(await retention.policy('parcels')).toEqual({ maxLength: 4 });

      // 'laggard' has read nothing: every entry is unacknowledged for it.
      expect(await retention.apply('parcels')).toEqual({ deleted: 0, keptBecauseUnacknowledged: 6 });
      await redis.xreadgroup('GROUP', 'laggard', 'l1', 'COUNT', 7, 'STREAMS', key, '>');
      const pendingIds = (await redis.xrange(key, '-', '+')).map(([id]) => id);
      await redis.xack(key, 'laggard', ...pendingIds.slice(0, 3));
      // laggard acknowledged 3, holds 4 pending, has not read 3: entries 4.. must stay.
      expect(await retention.apply('parcels')).toEqual({ deleted: 3, keptBecauseUnacknowledged: 3 });
      expect(await redis.xlen(key)).toBe(7);
      expect(await retention.apply('parcels', { force: true })).toEqual({ deleted: 3, keptBecauseUnacknowledged: 0 });
      expect(await redis.xlen(key)).toBe(4);

      await retention.setPolicy('parcels', { maxAgeMs: 60_000 });
      expect(await retention.apply('parcels', { force: true })).toEqual({ deleted: 0, keptBecauseUnacknowledged: 0 });
      await retention.setPolicy('parcels', { maxAgeMs: 0 });
      await redis.xack(key, 'laggard', ...pendingIds);
      await redis.xgroup('SETID', key, 'laggard', '$');
      expect((await retention.apply('parcels')).deleted).toBe(4);
    },
  );

  itIf(unpartitioned, rawKeys)(
    'gives every stream a default retention by age that keeps what a group has not acknowledged; its own policy overrides it',
    async () => {
      const ns = testNamespace('retention-default');
      const key = testKeys(ns).stream('parcels');
      // Three entries two hours old, written before the groups exist: alpha and beta start after them.
      const old = Date.now() - 2 * 3_600_000;
      for (let i = 0; i < 3; i++) await redis.xadd(key, `${old}-${i}`, 'id', `old-${i}`);
      const app = await start(ns, { startFrom: 'new' }, undefined, 3_600_000);
      await redis.xgroup('CREATE', key, 'laggard', '0');
      await app.get(EventPublisher).publishMany(parcels(4, 'D'));
      await waitFor('alpha and beta done', () => count('alpha') === 4 && count('beta') === 4);
      const retention = app.get(RetentionService);
      expect(await retention.policy('parcels')).toBeNull();
      expect(retention.defaultPolicy).toEqual({ maxAgeMs: 3_600_000 });

      // 'laggard' has read nothing: the old entries stay.
      expect(await retention.apply('parcels')).toEqual({ deleted: 0, keptBecauseUnacknowledged: 3 });
      expect(await redis.xlen(key)).toBe(7);

      // A stream's own policy replaces the default.
      await redis.xgroup('SETID', key, 'laggard', '$');
      await retention.setPolicy('parcels', { maxLength: 100 });
      expect(await retention.apply('parcels')).toEqual({ deleted: 0, keptBecauseUnacknowledged: 0 });

      // Back to the default: the old entries go, the new ones stay.
      await retention.setPolicy('parcels', null);
      expect(await retention.apply('parcels')).toEqual({ deleted: 3, keptBecauseUnacknowledged: 0 });
      expect(await redis.xlen(key)).toBe(4);
    },
  );

  itIf(unpartitioned, rawKeys)('keeps everything with a default retention of 0', async () => {
    const ns = testNamespace('retention-forever');
    const key = testKeys(ns).stream('parcels');
    await redis.xadd(key, `${Date.now() - 30 * 86_400_000}-0`, 'id', 'ancient');
    const app = await start(ns, { startFrom: 'new' }, undefined, 0);
    const retention = app.get(RetentionService);
    expect(retention.defaultPolicy).toBeNull();
    expect(await retention.apply('parcels')).toEqual({ deleted: 0, keptBecauseUnacknowledged: 0 });
    expect(await redis.xlen(key)).toBe(1);
  });

  itIf(unpartitioned, rawKeys)('trims entries older than 7 days by default', async () => {
    const ns = testNamespace('retention-7d');
    const key = testKeys(ns).stream('parcels');
    await redis.xadd(key, `${Date.now() - 8 * 86_400_000}-0`, 'id', 'eight-days');
    await redis.xadd(key, `${Date.now() - 6 * 86_400_000}-0`, 'id', 'six-days');
    const app = await start(ns, { startFrom: 'new' });
    expect(await app.get(RetentionService).apply('parcels')).toEqual({ deleted: 1, keptBecauseUnacknowledged: 0 });
    expect((await redis.xrange(key, '-', '+')).map(([, f]) => f[1])).toEqual(['six-days']);
  });

  itIf(unpartitioned, rawKeys)(
    'does not wait for groups it is told to ignore (observers such as the flow indexer)',
    async () => {
      // Tried: an observer group that never reads and a real group that lags, with a length policy of 4.
      const ns = testNamespace('retention-observer');
      const key = testKeys(ns).stream('parcels');
      const app = await start(ns, { startFrom: 'new' }, ['observer']);
      await redis.xgroup('CREATE', key, 'observer', '0', 'MKSTREAM');
      await app.get(EventPublisher).publishMany(parcels(10, 'O'));
      await waitFor('alpha and beta done', () => count('alpha') === 10 && count('beta') === 10);
      const retention = app.get(RetentionService);
      await retention.setPolicy('parcels', { maxLength: 4 });
      expect(await retention.apply('parcels')).toEqual({ deleted: 6, keptBecauseUnacknowledged: 0 });
      expect(await redis.xlen(key)).toBe(4);
      // A group that is not ignored still holds the stream: it has read nothing of the 4 left.
      await redis.xgroup('CREATE', key, 'laggard', '0');
      await retention.setPolicy('parcels', { maxLength: 1 });
      expect(await retention.apply('parcels')).toEqual({ deleted: 0, keptBecauseUnacknowledged: 3 });
    },
  );
});
