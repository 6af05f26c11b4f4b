import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import {
  DedupeGuard,
  SEEN_SHARDS,
  claimOfEntry,
  queueHandled,
  queueReleaseClaim,
  readMarker,
  shardOf,
} from '@nest-streams/event-bus/consumer/dedupe.guard';
import type { ClaimRequest, DedupeBucket } from '@nest-streams/event-bus/consumer/dedupe.guard';
import type { EventBusKeys } from '@nest-streams/event-bus';
import { testKeys, testNamespace, testRedisClient } from '../../../test/support/redis';

/**
 * The dedupe markers of an hour bucket are spread over SEEN_SHARDS small hashes by the event id,
 * so each stays in Redis's compact listpack encoding; copies of an event are caught whichever
 * shards the other events of their batch fall in.
 */
describe('DedupeGuard shards', () => {
  const stream = 'orders';
  const group = 'g';
  let redis: Redis;
  let keys: EventBusKeys;
  let guard: DedupeGuard;
  let bucket: DedupeBucket;
  const time = new Date().toISOString();

  // NOTE: one source object, as a consumer's: a batch's requests of one source go in one script call.
  const source: ClaimRequest['source'] = { stream, kind: 'live', partition: 0 };
  const request = (id: string, entryId: string, deliveryCount = 1): ClaimRequest => ({
    bucket,
    envelope: { id },
    source,
    entryId,
    deliveryCount,
  });

  /** An id whose shard is `shard`. */
  const idIn = (shard: number): string => {
    for (;;) {
      const id = randomUUID();
      if (shardOf(id) === shard) return id;
    }
  };

  beforeAll(() => {
    redis = testRedisClient();
    keys = testKeys(testNamespace('shards'));
    guard = new DedupeGuard(redis, keys, 60_000);
  });

  beforeEach(async () => {
    bucket = guard.bucket(stream, group, time);
    await Promise.all(bucket.shards.map((key) => redis.del(key)));
  });

  afterAll(async () => {
    await Promise.all(bucket.shards.map((key) => redis.del(key)));
    await redis.del(keys.stream(stream, 0));
    redis.disconnect();
  });

  it('keeps every shard of a bucket listpack-encoded after 2000 markers, each in the shard of its id', async () => {
    expect(new Set(bucket.shards).size).toBe(SEEN_SHARDS);
    const ids = Array.from({ length: 2000 }, () => randomUUID());
    const before = Date.now();
    for (let from = 0; from < ids.length; from += 100) {
      const batch = ids.slice(from, from + 100).map((id, j) => request(id, `${from + j + 1}-0`));
      expect(await guard.claimMany(group, batch)).toEqual(batch.map(() => 'run'));
    }
    const pipeline = redis.pipeline();
    queueHandled(
      pipeline,
      bucket,
      ids.slice(0, 100).map((id) => [id, 3] as const),
      before,
    );
    await pipeline.exec();

    const encodings = await Promise.all(bucket.shards.map((key) => redis.object('ENCODING', key)));
    expect(new Set(encodings)).toEqual(new Set(['listpack']));
    const lengths = await Promise.all(bucket.shards.map((key) => redis.hlen(key)));
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(128);
    const ttls = await Promise.all(bucket.shards.map((key) => redis.ttl(key)));
    expect(ttls.every((ttl) => ttl > 0)).toBe(true);

    const marker = guard.marker(stream, group, ids[1500], time);
    expect(marker.key).toBe(bucket.shards[shardOf(ids[1500])]);
    const claim = readMarker(await redis.hget(marker.key, marker.field));
    expect(claim).toMatchObject({ kind: 'claimed', source: 'live', entryId: '1501-0' });
    expect(claim!.at).toBeGreaterThanOrEqual(before);
    expect(claim!.at).toBeLessThanOrEqual(Date.now());
    const final = guard.marker(stream, group, ids[7], time);
    expect(readMarker(await redis.hget(final.key, final.field))).toEqual({ kind: 'handled', at: before, attempts: 3 });
  });

  it('catches a copy whose batch neighbours fall in other shards, and a copy held by an entry still pending', async () => {
    const a = idIn(5);
    const b = idIn(6);
    const c = idIn(7);
    expect(await guard.claimMany(group, [request(a, '1-0'), request(b, '2-0')])).toEqual(['run', 'run']);
    // NOTE: the marker is in its own shard only, not in the neighbouring one.
    expect(await redis.hexists(bucket.shards[5], a)).toBe(1);
    expect(await redis.hexists(bucket.shards[6], a)).toBe(0);
    // Copies read with ">" from other entries; entries 1-0 and 2-0 are not pending (acknowledged).
    expect(await guard.claimMany(group, [request(b, '3-0'), request(c, '4-0'), request(a, '5-0')])).toEqual([
      'handled',
      'run',
      'handled',
    ]);
    // Two copies in one batch, another shard's event between them.
    const d = idIn(9);
    const e = idIn(10);
    expect(await guard.claimMany(group, [request(d, '6-0'), request(e, '7-0'), request(d, '8-0')])).toEqual([
      'run',
      'run',
      'held',
    ]);
    // A dead letter releases its claim: the next copy runs.
    const held = claimOfEntry(keys, stream, group, 'live', '1-0', ['id', a, 'time', time]);
    expect(held?.bucket).toBe(bucket.shards[5]);
    const tx = redis.multi();
    queueReleaseClaim(tx, held!);
    await tx.exec();
    expect(await guard.claimMany(group, [request(a, '9-0'), request(b, '10-0')])).toEqual(['run', 'handled']);

    // A claim whose entry is still pending: a copy from another entry waits.
    const streamKey = keys.stream(stream, 0);
    await redis.xgroup('CREATE', streamKey, group, '0', 'MKSTREAM');
    const entryId = (await redis.xadd(streamKey, '*', 'id', 'f', 'time', time))!;
    await redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 1, 'STREAMS', streamKey, '>');
    const f = idIn(20);
    expect(await guard.claimMany(group, [request(c, '11-0'), request(f, entryId)])).toEqual(['handled', 'run']);
    expect(await guard.claimMany(group, [request(idIn(21), '12-0'), request(f, '13-0')])).toEqual(['run', 'held']);
    // Its own entry redelivered runs again; a first delivery of its own entry (moved back over) is handled.
    expect(await guard.claim(group, request(f, entryId, 2))).toBe('run');
    expect(await guard.claim(group, request(f, entryId, 1))).toBe('handled');
  });
});
