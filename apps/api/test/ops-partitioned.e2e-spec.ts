import { Injectable, Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsInt, IsString } from 'class-validator';
import type Redis from 'ioredis';
import {
  DeadLetterService,
  EventBusCore,
  EventBusKeys,
  EventBusModule,
  EventContract,
  GroupAdminService,
  ReplayService,
  RetentionService,
  Subscribe,
} from '@nest-streams/event-bus';
import { deadLetter } from '@nest-streams/event-bus/dead-letter/dead-letter.writer';
import { readStreamStats } from '@nest-streams/event-bus/observability/stream-stats';
import { testNamespace, testRedisClient, testRedisUrl, waitFor } from '../../../test/support/redis';
import { StreamsService } from '../src/ops/streams/streams.service';
import { createOpsTestApp, OpsTestApp } from './support/ops-app';
import { opsClient } from './support/ops-client';

const STREAM = 'ops-partitioned';
const PARTITIONS = 16;

/** A test-only contract on a stream of its own (registered, so the operations API reaches it). */
@EventContract({ type: 'PartitionProbed', version: 1, stream: STREAM, subjectField: 'label' })
class PartitionProbed {
  @IsString()
  label!: string;

  @IsInt()
  n!: number;
}

const handled: Array<{ label: string; redelivered: boolean }> = [];

@Injectable()
class ProbeHandlers {
  @Subscribe(PartitionProbed, { group: 'ops-part-consumer' })
  record(event: PartitionProbed): void {
    handled.push({ label: event.label, redelivered: false });
  }
}

@Module({ providers: [ProbeHandlers] })
class ProbeModule {}

/**
 * The operations side with 16 partitions: stats, group administration, dead letters, replays,
 * moves and retention over every partition, through the library services (no consumer runs),
 * then over HTTP with the platform's consumers running (last: that part needs partitioned
 * consumption).
 */
describe('operations on partitioned streams', () => {
  let redis: Redis;
  let app: INestApplicationContext;
  let core: EventBusCore;
  let keys: EventBusKeys;
  const labels = Array.from({ length: 48 }, (_, i) => `S-${i}`);
  const written = new Map<string, { k: number; id: string }>();

  /** XADDs an event about `label` to its partition's key; the entry's partition and id. */
  async function addEvent(label: string, n: number): Promise<{ k: number; id: string }> {
    const k = keys.partitionOf(label);
    const id = (await redis.xadd(
      keys.stream(STREAM, k),
      '*',
      'specversion',
      '1.0',
      'id',
      `evt-${label}-${n}`,
      'type',
      'PartitionProbed',
      'version',
      '1',
      'source',
      'test',
      'subject',
      label,
      'time',
      new Date().toISOString(),
      'data',
      JSON.stringify({ label, n }),
    ))!;
    return { k, id };
  }

  const sumLengths = async (key: (k: number) => string): Promise<number> =>
    (await Promise.all(keys.all.map((k) => redis.xlen(key(k))))).reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    redis = testRedisClient();
    @Module({
      imports: [
        EventBusModule.forRoot({
          redis: testRedisUrl(),
          namespace: testNamespace('opspart'),
          partitions: PARTITIONS,
          retentionIntervalMs: 0,
        }),
      ],
    })
    class LibraryModule {}
    app = await NestFactory.createApplicationContext(LibraryModule, { logger: ['error'] });
    core = app.get(EventBusCore);
    keys = core.keys;
    for (const [n, label] of labels.entries()) written.set(label, await addEvent(label, n));
  });

  afterAll(async () => {
    await app?.close();
    redis?.disconnect();
  });

  it('spreads the events over several partitions', () => {
    expect(keys.partitions).toBe(PARTITIONS);
    expect(new Set([...written.values()].map((w) => w.k)).size).toBeGreaterThan(4);
  });

  it('creates a group on every partition and sums its lag and pending; consumers are listed with their partition', async () => {
    const admin = app.get(GroupAdminService);
    const created = await admin.createGroup(STREAM, 'audit', 'beginning');
    expect(created).toMatchObject({ group: 'audit', lag: labels.length, pending: 0 });
    for (const k of keys.all) {
      const groups = (await redis.xinfo('GROUPS', keys.stream(STREAM, k))) as unknown[][];
      expect(groups.length).toBe(1);
    }
    await expect(admin.createGroup(STREAM, 'audit', 'end')).rejects.toMatchObject({ problem: 'group-exists' });

    // Two partitions' consumers read two entries each (what a partition owner does).
    const [a, b] = [...new Set([...written.values()].map((w) => w.k))];
    for (const k of [a, b])
      await redis.xreadgroup('GROUP', 'audit', `p${k}`, 'COUNT', 2, 'STREAMS', keys.stream(STREAM, k), '>');
    const read =
      Math.min(2, [...written.values()].filter((w) => w.k === a).length) +
      Math.min(2, [...written.values()].filter((w) => w.k === b).length);

    const info = await admin.group(STREAM, 'audit');
    expect(info.pending).toBe(read);
    expect(info.lag).toBe(labels.length - read);
    expect(info.consumers.map((c) => [c.name, c.partition]).sort()).toEqual(
      [
        [`p${a}`, a],
        [`p${b}`, b],
      ].sort(),
    );

    const [stats] = await readStreamStats(redis, keys, [STREAM]);
    expect(stats).toMatchObject({ stream: STREAM, length: labels.length, deadLetters: 0 });
    expect(stats.groups).toEqual([{ group: 'audit', lag: labels.length - read, pending: read }]);

    const pending = await admin.pending(STREAM, 'audit');
    expect(pending).toHaveLength(read);
    for (const p of pending) expect(p.id).toMatch(new RegExp(`^p(${a}|${b})/\\d+-\\d+$`));
    expect((await admin.pending(STREAM, 'audit', { consumer: `p${a}` })).every((p) => p.id.startsWith(`p${a}/`))).toBe(
      true,
    );
  });

  it('settles pending entries by their p<k>/ ids: claim, acknowledge, dead-letter into the partition', async () => {
    const admin = app.get(GroupAdminService);
    const [first, second, ...rest] = await admin.pending(STREAM, 'audit');
    await admin.claimPending(STREAM, 'audit', first.id, 'operator-x');
    expect((await admin.pendingEntry(STREAM, 'audit', first.id)).consumer).toBe('operator-x');
    await admin.ackPending(STREAM, 'audit', second.id);
    await expect(admin.pendingEntry(STREAM, 'audit', second.id)).rejects.toMatchObject({ problem: 'not-pending' });

    const k = Number(first.id.slice(1, first.id.indexOf('/')));
    const deadLetterId = await admin.deadLetterPending(STREAM, 'audit', first.id, { reason: 'operator' });
    expect(deadLetterId.startsWith(`p${k}/`)).toBe(true);
    expect(await redis.xlen(keys.deadLetter(STREAM, k))).toBe(1);
    for (const p of rest) await admin.ackPending(STREAM, 'audit', p.id);
    expect((await admin.group(STREAM, 'audit')).pending).toBe(0);
    await admin.removeConsumer(STREAM, 'audit', 'operator-x');
  });

  it('lists, pages, redrives and purges dead letters of several partitions', async () => {
    const dlq = app.get(DeadLetterService);
    await redis.del(...keys.all.map((k) => keys.deadLetter(STREAM, k)));
    const chosen = labels.slice(0, 12);
    for (const label of chosen) {
      const { k, id } = written.get(label)!;
      const [[, fields]] = await redis.xrange(keys.stream(STREAM, k), id, id);
      await deadLetter(redis, keys, fields, {
        reason: 'handler-failed',
        error: 'boom',
        stream: STREAM,
        entryId: id,
        group: 'audit',
        consumer: `p${k}`,
        handler: 'h',
        attempts: 3,
        partition: k,
      });
    }
    const partitionsUsed = new Set(chosen.map((l) => written.get(l)!.k));
    expect(partitionsUsed.size).toBeGreaterThan(2);

    expect(await dlq.count(STREAM)).toBe(chosen.length);
    const all = await dlq.list(STREAM);
    expect(all).toHaveLength(chosen.length);
    for (const letter of all) {
      expect(letter.id).toMatch(/^p\d+\/\d+-\d+$/);
      expect(letter.id.startsWith(`p${letter.partition}/`)).toBe(true);
      expect(written.get(letter.envelope.subject)!.k).toBe(letter.partition);
    }
    // Pages of 5 follow one another without gaps or repeats.
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await dlq.list(STREAM, {}, { count: 5, after });
      paged.push(...page.map((l) => l.id));
      if (page.length < 5) break;
      after = page[page.length - 1].id;
    }
    expect(paged).toEqual(all.map((l) => l.id));

    const [one, two] = all;
    expect(await dlq.redrive(STREAM, { ids: [one.id, two.id] })).toBe(2);
    for (const letter of [one, two]) {
      const [redriven] = await redis.xrange(keys.redrive(STREAM, 'audit', letter.partition!), '-', '+');
      expect(redriven).toBeDefined();
    }
    expect(await sumLengths((k) => keys.redrive(STREAM, 'audit', k))).toBe(2);
    expect(await dlq.count(STREAM)).toBe(chosen.length - 2);

    expect(await dlq.redrive(STREAM, { group: 'audit' })).toBe(chosen.length - 2);
    expect(await sumLengths((k) => keys.redrive(STREAM, 'audit', k))).toBe(chosen.length);
    expect(await dlq.count(STREAM)).toBe(0);

    const [{ k, id }] = [written.get(labels[20])!];
    const [[, fields]] = await redis.xrange(keys.stream(STREAM, k), id, id);
    await deadLetter(redis, keys, fields, {
      reason: 'x',
      error: 'x',
      stream: STREAM,
      entryId: id,
      group: 'audit',
      consumer: 'c',
      handler: 'h',
      attempts: 1,
      partition: k,
    });
    expect(await dlq.purge(STREAM, { all: true })).toBe(1);
    expect(await dlq.count(STREAM)).toBe(0);
  });

  it('replays across partitions with summed progress, and moves a group on every partition', async () => {
    const replays = app.get(ReplayService);
    const progress: Array<{ done: number; total: number }> = [];
    const dry = await replays.run({ stream: STREAM, target: { kind: 'handlers', group: 'audit' }, dryRun: true });
    expect(dry).toEqual({ total: labels.length, done: 0, cancelled: false });
    const result = await replays.run(
      { stream: STREAM, target: { kind: 'handlers', group: 'audit' } },
      { onProgress: (p) => void progress.push(p) },
    );
    expect(result).toEqual({ total: labels.length, done: labels.length, cancelled: false });
    expect(progress.at(-1)).toEqual({ done: labels.length, total: labels.length });
    expect(await sumLengths((k) => keys.replay(STREAM, 'audit', k))).toBe(labels.length);
    for (const { k } of written.values()) expect(await redis.xlen(keys.replay(STREAM, 'audit', k))).toBeGreaterThan(0);

    // A bare id bound applies its ms part on every partition: from the first label's id on, everything.
    const firstId = [...written.values()].map((w) => w.id).sort()[0];
    expect(
      (await replays.run({ stream: STREAM, from: firstId, target: { kind: 'handlers', group: 'audit' }, dryRun: true }))
        .total,
    ).toBe(labels.length);

    const moved = await replays.moveGroup(STREAM, 'audit', { id: '0-0' });
    expect(moved).toEqual({ lastDeliveredId: '0-0', redeliver: labels.length });
    for (const k of keys.all) {
      const [group] = ((await redis.xinfo('GROUPS', keys.stream(STREAM, k))) as unknown[][]).map((g) =>
        Object.fromEntries(toPairs(g)),
      );
      expect(group['last-delivered-id']).toBe('0-0');
    }
    expect((await app.get(GroupAdminService).group(STREAM, 'audit')).lag).toBe(labels.length);

    await replays.run({ stream: STREAM, target: { kind: 'new-group', group: 'fresh' } });
    for (const k of keys.all)
      expect(((await redis.xinfo('GROUPS', keys.stream(STREAM, k))) as unknown[][]).length).toBe(2);
  });

  it('keeps one retention policy and applies it per partition (ceil(maxLength / partitions) each)', async () => {
    const retention = app.get(RetentionService);
    await retention.setPolicy(STREAM, { maxLength: PARTITIONS });
    expect(await redis.hgetall(keys.retention(STREAM))).toEqual({ maxLength: String(PARTITIONS) });
    expect(await retention.policy(STREAM)).toEqual({ maxLength: PARTITIONS });

    const safe = await retention.apply(STREAM);
    expect(safe.deleted).toBe(0);
    expect(safe.keptBecauseUnacknowledged).toBeGreaterThan(0);

    const forced = await retention.apply(STREAM, { force: true });
    const lengths = await Promise.all(keys.all.map((k) => redis.xlen(keys.stream(STREAM, k))));
    for (const n of lengths) expect(n).toBeLessThanOrEqual(1);
    expect(forced.deleted).toBe(labels.length - lengths.reduce((a, b) => a + b, 0));
  });

  it('shows summaries and entry listings merged over the partitions (ops API service)', async () => {
    const streams = new StreamsService(core, app.get(RetentionService));
    await Promise.all(keys.all.map((k) => redis.del(keys.stream(STREAM, k))));
    written.clear();
    for (const [n, label] of labels.entries()) written.set(label, await addEvent(label, n));

    const summary = await streams.summary(STREAM);
    expect(summary).toMatchObject({ stream: STREAM, length: labels.length, deadLetters: 0, groups: 0 });
    const ids = [...written.values()].map((w) => w.id).sort();
    expect(summary.firstId).toBe(ids[0]);
    expect(summary.lastId).toBe(ids.at(-1));

    for (const order of ['oldest', 'newest'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await streams.entries(STREAM, { order, count: 7, cursor });
        seen.push(...page.entries.map((e) => e.id));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      const expected = [...written.values()].map((w) => `p${w.k}/${w.id}`);
      expect([...seen].sort()).toEqual([...expected].sort());
      expect(new Set(seen).size).toBe(labels.length);
    }
    const filtered = await streams.entries(STREAM, { subject: labels[5] });
    expect(filtered.entries.map((e) => e.subject)).toEqual([labels[5]]);

    const { k, id } = written.get(labels[7])!;
    expect((await streams.entry(STREAM, `p${k}/${id}`)).subject).toBe(labels[7]);
    expect((await streams.entry(STREAM, id)).id).toMatch(/^p\d+\//);
  });

  // NOTE: from here on the platform app runs with 16 partitions, its consumers included: this
  // needs partitioned consumption (leases, p<k> consumers) to boot and to handle the redrives.
  describe('over HTTP, with consumers running', () => {
    let platform: OpsTestApp;
    let ops: ReturnType<typeof opsClient>;

    beforeAll(async () => {
      platform = await createOpsTestApp({
        extra: [ProbeModule],
        env: { OPS_RATE_LIMIT: '100000', EVENT_BUS_PARTITIONS: String(PARTITIONS) },
      });
      ops = opsClient(platform.url);
    });

    afterAll(async () => {
      await platform?.app.close();
    });

    it('lists and redrives dead letters of several partitions by p<k>/ ids, and the consumers handle them', async () => {
      const platformKeys = platform.app.get(EventBusCore).keys;
      expect(platformKeys.partitions).toBe(PARTITIONS);
      const admin = platform.app.get(GroupAdminService);
      await waitFor('the consumer group exists', () => admin.hasGroup(STREAM, 'ops-part-consumer'));
      const chosen = labels.slice(0, 6);
      for (const label of chosen) {
        const k = platformKeys.partitionOf(label);
        const fields = [
          'specversion',
          '1.0',
          'id',
          `dead-${label}`,
          'type',
          'PartitionProbed',
          'version',
          '1',
          'source',
          'test',
          'subject',
          label,
          'time',
          new Date().toISOString(),
          'datacontenttype',
          'application/json',
          'data',
          JSON.stringify({ label, n: 1 }),
        ];
        await deadLetter(redis, platformKeys, fields, {
          reason: 'handler-failed',
          error: 'boom',
          stream: STREAM,
          entryId: '1-0',
          group: 'ops-part-consumer',
          consumer: `p${k}`,
          handler: 'h',
          attempts: 3,
          partition: k,
        });
      }
      const listed = await ops.get(`/ops/streams/${STREAM}/dead-letters`).expect(200);
      expect(listed.body).toHaveLength(chosen.length);
      for (const letter of listed.body as Array<{ id: string; partition: number }>)
        expect(letter.id).toMatch(new RegExp(`^p${letter.partition}/`));
      const summary = await ops.get('/ops/streams').expect(200);
      expect(
        (summary.body as Array<{ stream: string; deadLetters: number }>).find((s) => s.stream === STREAM)?.deadLetters,
      ).toBe(chosen.length);

      const ids = (listed.body as Array<{ id: string }>).map((l) => l.id);
      const redriven = await ops.post(`/ops/streams/${STREAM}/dead-letters/redrive`, { ids }).expect(200);
      expect(redriven.body).toEqual({ redriven: chosen.length });
      await waitFor(
        'the redriven dead letters were handled',
        () => chosen.every((label) => handled.some((h) => h.label === label)),
        15_000,
      );
    });
  });
});

function toPairs(flat: unknown[]): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([String(flat[i]), flat[i + 1]]);
  return out;
}
