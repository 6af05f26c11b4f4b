/**
 * Fault 10: "Redrive reaches only the failed group."
 *
 * What it tries: two services (consumer groups `billing` and `audit`, one worker process each)
 * read the same stream. billing's handler always fails on one tick (POISON_IDS), so that tick is
 * dead-lettered for billing while audit handles it fine. billing is then "fixed" (its worker is
 * stopped and started again without the poison) and the test redrives billing's dead letters with
 * DeadLetterService, as an operator would. Checked: billing handles the tick once more, as a
 * redrive, and acknowledges it; the dead-letter stream is empty; audit's handler ran that tick
 * exactly once in all, nothing was appended to the stream audit reads, audit has no redrive
 * stream entries, and both groups have nothing pending.
 *
 * NOTE: both workers run with the dedupe guard off, so that a redrive that wrongly reached audit
 * would show as a second run of audit's handler instead of being skipped as a duplicate.
 */
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DeadLetterService, EventBusModule } from '@nest-streams/event-bus';
import { testNamespace, waitFor } from '../support/redis';
import { faultKeys } from './fault-events';
import {
  FaultRedis,
  killAllWorkers,
  pendingCount,
  publishTicks,
  sleep,
  startWorker,
  tally,
  waitDrained,
  WorkerEnv,
} from './harness';
import { tickEventId, tickId } from './publisher';

const EVENTS = 100;
const POISON = 42;
const MAX_ATTEMPTS = 2;
const FAILED = 'billing';
const OTHER = 'audit';

/** An operator's app: the bus without consumers, for DeadLetterService. */
async function operatorApp(url: string, namespace: string): Promise<INestApplicationContext> {
  @Module({
    imports: [EventBusModule.forRoot({ redis: url, namespace, source: 'operator', consume: false, isGlobal: true })],
  })
  class OperatorModule {}
  return NestFactory.createApplicationContext(OperatorModule, { logger: ['error'] });
}

describe('fault 10: redrive of a dead letter', () => {
  let redis: FaultRedis;

  beforeAll(async () => {
    redis = await FaultRedis.start();
  });
  afterEach(killAllWorkers);
  afterAll(async () => {
    await killAllWorkers();
    await redis?.destroy();
  });

  it('Redrive reaches only the failed group.', async () => {
    const ns = testNamespace('redrive');
    const failedKeys = faultKeys(ns, FAILED);
    const otherKeys = faultKeys(ns, OTHER);
    await publishTicks(redis.url, ns, EVENTS);
    const env = (group: string, extra: Partial<WorkerEnv> = {}): WorkerEnv => ({
      REDIS_URL: redis.url,
      NAMESPACE: ns,
      GROUP: group,
      CONSUMER_NAME: `${group}-1`,
      BATCH_SIZE: 20,
      CONCURRENCY: 8,
      CONSUMER_JSON: JSON.stringify({
        retry: { maxAttempts: MAX_ATTEMPTS, initialDelayMs: 50, maxDelayMs: 100, jitter: 0 },
        dedupe: { enabled: false },
      }),
      ...extra,
    });
    const billing = await startWorker(env(FAILED, { POISON_IDS: tickId(POISON) }));
    await startWorker(env(OTHER));

    await waitDrained(redis.client, ns, EVENTS, 20_000, OTHER);
    await waitDrained(redis.client, ns, EVENTS - 1, 20_000, FAILED);
    await waitFor('the poison dead-lettered', async () => (await redis.client.xlen(failedKeys.deadLetters)) === 1);
    expect(await redis.client.hget(otherKeys.deliveries, String(POISON))).toBe('1');
    expect(await redis.client.hget(failedKeys.deliveries, String(POISON))).toBe(String(MAX_ATTEMPTS));

    // The fix: billing restarts without the bug.
    billing.terminate();
    expect(await billing.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    await startWorker(env(FAILED));

    const app = await operatorApp(redis.url, ns);
    let redriven: number;
    try {
      const dlq = app.get(DeadLetterService);
      const letters = await dlq.list('ticks', { group: FAILED });
      expect(
        letters.map((l) => ({ group: l.group, eventId: l.eventId, reason: l.reason, attempts: l.attempts })),
      ).toEqual([
        { group: FAILED, eventId: tickEventId(ns, POISON), reason: 'handler-failed', attempts: MAX_ATTEMPTS },
      ]);
      expect(await dlq.list('ticks', { group: OTHER })).toEqual([]);
      redriven = await dlq.redrive('ticks', { group: FAILED });
      expect(await dlq.count('ticks')).toBe(0);
    } finally {
      await app.close();
    }

    await waitFor(
      'billing handled the redriven tick',
      async () => (await redis.client.hget(failedKeys.effects, String(POISON))) === '1',
      10_000,
    );
    await waitFor(
      'billing acknowledged it',
      async () => (await pendingCount(redis.client, ns, FAILED, failedKeys.redrive)) === 0,
    );
    // NOTE: give audit every chance to (wrongly) see it too: several block timeouts and claim intervals.
    await sleep(1_500);

    const failed = await tally(
      redis.client,
      ns,
      'redrive-failed-group',
      EVENTS,
      { group: FAILED, redriven, 'redrive-runs': (await redis.client.hget(failedKeys.redriven, String(POISON))) ?? 0 },
      FAILED,
    );
    const other = await tally(
      redis.client,
      ns,
      'redrive-other-group',
      EVENTS,
      { group: OTHER, 'poison-runs': (await redis.client.hget(otherKeys.deliveries, String(POISON))) ?? 0 },
      OTHER,
    );

    expect(redriven).toBe(1);
    // The failed group: every tick processed now, the poison after MAX_ATTEMPTS failures plus the redrive.
    expect(failed.lost).toBe(0);
    expect(await redis.client.hget(failedKeys.deliveries, String(POISON))).toBe(String(MAX_ATTEMPTS + 1));
    expect(await redis.client.hget(failedKeys.redriven, String(POISON))).toBe('1');
    expect(await redis.client.hlen(failedKeys.redriven)).toBe(1);
    expect(await pendingCount(redis.client, ns, FAILED)).toBe(0);
    // The other group: its handler ran the poison tick once, and every tick once, in all.
    expect(await redis.client.hget(otherKeys.deliveries, String(POISON))).toBe('1');
    expect(other.lost).toBe(0);
    expect(other.duplicated).toBe(0);
    expect(await redis.client.hlen(otherKeys.redriven)).toBe(0);
    expect(await pendingCount(redis.client, ns, OTHER)).toBe(0);
    expect(await redis.client.xlen(otherKeys.redrive)).toBe(0);
    // The redrive appended nothing to the stream every group reads.
    expect(await redis.client.xlen(faultKeys(ns).stream)).toBe(EVENTS);
  }, 60_000);
});
