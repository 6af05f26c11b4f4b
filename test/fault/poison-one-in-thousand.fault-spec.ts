/**
 * Fault 3: "One poison event among 1,000: exactly one dead letter with reason and attempt count;
 * the other 999 processed; no pending left."
 *
 * What it tries: 1,000 ticks published through the library; the worker's handler always throws on
 * one of them (POISON_IDS). The bus must retry that one maxAttempts times with backoff, then move
 * it to the dead-letter stream stamped with reason `handler-failed`, the error, the attempt count,
 * the group and the handler, while the 999 others flow past it. At the end nothing is pending,
 * neither on the stream nor on the group's redrive stream, and the one dead letter is the poison.
 */
import { testNamespace, waitFor } from '../support/redis';
import { faultKeys } from './fault-events';
import {
  effectCount,
  FaultRedis,
  killAllWorkers,
  pendingCount,
  publishTicks,
  sleep,
  startWorker,
  tally,
} from './harness';
import { tickEventId, tickId } from './publisher';

const EVENTS = 1_000;
const POISON = 613;
const MAX_ATTEMPTS = 3;

describe('fault 3: one poison event among 1,000', () => {
  let redis: FaultRedis;

  beforeAll(async () => {
    redis = await FaultRedis.start();
  });
  afterEach(killAllWorkers);
  afterAll(async () => {
    await killAllWorkers();
    await redis?.destroy();
  });

  it('One poison event among 1,000: exactly one dead letter with reason and attempt count; the other 999 processed; no pending left.', async () => {
    const ns = testNamespace('poison-1k');
    const keys = faultKeys(ns);
    await publishTicks(redis.url, ns, EVENTS);
    const worker = await startWorker({
      REDIS_URL: redis.url,
      NAMESPACE: ns,
      CONSUMER_NAME: 'w1',
      BATCH_SIZE: 50,
      CONCURRENCY: 16,
      POISON_IDS: tickId(POISON),
      CONSUMER_JSON: JSON.stringify({
        retry: { maxAttempts: MAX_ATTEMPTS, initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 },
      }),
    });

    await waitFor(
      `every tick processed or dead-lettered, nothing pending`,
      async () =>
        (await effectCount(redis.client, ns)) + (await redis.client.xlen(keys.deadLetters)) >= EVENTS &&
        (await pendingCount(redis.client, ns)) === 0,
      30_000,
    );
    // NOTE: settle: a second dead letter or a late retry of the poison would show up here.
    await sleep(500);
    const letters = (await redis.client.xrange(keys.deadLetters, '-', '+')).map(([, fields]) => {
      const letter: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) letter[fields[i]] = fields[i + 1];
      return letter;
    });
    const deliveries = await redis.client.hgetall(keys.deliveries);
    const t = await tally(redis.client, ns, 'poison-one-in-1000', EVENTS, {
      'dead-letters': letters.length,
      'poison-attempts': deliveries[POISON] ?? 0,
      'max-attempts': MAX_ATTEMPTS,
    });

    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      reason: 'handler-failed',
      attempts: String(MAX_ATTEMPTS),
      stream: 'ticks',
      group: 'fault',
      consumer: 'w1',
      handler: 'TickHandler.onTick',
      eventid: tickEventId(ns, POISON),
      type: 'FaultTick',
    });
    expect(letters[0].error).toBe(`poison tick ${tickId(POISON)} always fails`);
    expect(JSON.parse(JSON.parse(letters[0].envelope).data)).toEqual({ n: POISON, id: tickId(POISON) });

    // The other 999 were processed, each once; the poison ran exactly maxAttempts times.
    expect(t.processed).toBe(EVENTS - 1);
    expect(t.lost).toBe(1);
    expect(await redis.client.hexists(keys.effects, String(POISON))).toBe(0);
    expect(deliveries[POISON]).toBe(String(MAX_ATTEMPTS));
    expect(t.duplicated).toBe(MAX_ATTEMPTS - 1);
    expect(t.unexpected).toBe(0);

    expect(await pendingCount(redis.client, ns)).toBe(0);
    expect(await pendingCount(redis.client, ns, 'fault', keys.redrive)).toBe(0);
    expect(worker.isAlive).toBe(true);
  }, 60_000);
});
