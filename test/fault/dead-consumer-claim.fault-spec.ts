/**
 * Fault 2: "A consumer killed and never restarted: a second instance claims its pending entries
 * within claim timeout + claim interval."
 *
 * What it tries: w1 reads every event of a small stream and sits on them (a 60 s handler), so all
 * of them are pending in w1 and nothing is left for anyone else. w2 of the same group is started
 * and must NOT take them while w1 is alive (w1 keeps its leases). Then w1 is SIGKILLed and never
 * restarted. From the kill on (the moment its entries stop being renewed, i.e. start going idle)
 * until w1 owns nothing any more must take at most claimTimeoutMs + claimIntervalMs + CLAIM_SLACK_MS.
 * Afterwards w2 handles them all (nothing lost, nothing pending) and removes w1 from the group
 * once w1 is idle past deadConsumerIdleMs.
 */
import { testNamespace, waitFor } from '../support/redis';
import {
  consumerNames,
  deliveredCount,
  FaultRedis,
  killAllWorkers,
  pendingByConsumer,
  pendingCount,
  publishTicks,
  sleep,
  startWorker,
  tally,
  waitDrained,
  WorkerEnv,
} from './harness';

const EVENTS = 60;
const CLAIM_TIMEOUT_MS = 2_000;
const CLAIM_INTERVAL_MS = 500;
const DEAD_CONSUMER_IDLE_MS = 1_000;
/**
 * What the bound allows beyond claimTimeoutMs + claimIntervalMs: this test's 10 ms polling, the
 * XAUTOCLAIM round trips, and timer lateness on a loaded 2-core box.
 */
const CLAIM_SLACK_MS = 400;
const CONCURRENCY = 4;

describe('fault 2: a consumer killed and never restarted', () => {
  let redis: FaultRedis;

  beforeAll(async () => {
    redis = await FaultRedis.start();
  });
  afterEach(killAllWorkers);
  afterAll(async () => {
    await killAllWorkers();
    await redis?.destroy();
  });

  it('A consumer killed and never restarted: a second instance claims its pending entries within claim timeout + claim interval.', async () => {
    const ns = testNamespace('dead-claim');
    await publishTicks(redis.url, ns, EVENTS);
    const tuning = JSON.stringify({
      claimTimeoutMs: CLAIM_TIMEOUT_MS,
      claimIntervalMs: CLAIM_INTERVAL_MS,
      deadConsumerIdleMs: DEAD_CONSUMER_IDLE_MS,
    });
    const env = (name: string, delayMs: number): WorkerEnv => ({
      REDIS_URL: redis.url,
      NAMESPACE: ns,
      CONSUMER_NAME: name,
      BATCH_SIZE: 100,
      CONCURRENCY,
      HANDLER_DELAY_MS: delayMs,
      CONSUMER_JSON: tuning,
    });

    // w1 takes the whole stream (one read of up to 100) and works on CONCURRENCY of them for a minute.
    const w1 = await startWorker(env('w1', 60_000));
    await waitFor(
      `w1 holds all ${EVENTS} entries`,
      async () => (await pendingByConsumer(redis.client, ns)).w1 === EVENTS,
      15_000,
    );
    await waitFor(
      `w1 started ${CONCURRENCY} handlers`,
      async () => (await deliveredCount(redis.client, ns)) === CONCURRENCY,
    );

    // A live consumer's entries are not claimed, however long it takes: w2 runs for a whole claim
    // timeout plus a few claim intervals next to w1 and must take nothing.
    await startWorker(env('w2', 0));
    await sleep(CLAIM_TIMEOUT_MS + 2 * CLAIM_INTERVAL_MS);
    expect(await pendingByConsumer(redis.client, ns)).toEqual({ w1: EVENTS });

    const killedAt = Date.now();
    expect((await w1.kill()).signal).toBe('SIGKILL');
    await waitFor('w1 owns nothing', async () => (await pendingByConsumer(redis.client, ns)).w1 === undefined, 15_000);
    const claimMs = Date.now() - killedAt;
    await waitDrained(redis.client, ns, EVENTS);
    await waitFor(
      'w1 removed from the group',
      async () => (await consumerNames(redis.client, ns)).join() === 'w2',
      DEAD_CONSUMER_IDLE_MS + CLAIM_INTERVAL_MS + CLAIM_SLACK_MS,
    );
    const removedMs = Date.now() - killedAt;

    const bound = CLAIM_TIMEOUT_MS + CLAIM_INTERVAL_MS + CLAIM_SLACK_MS;
    const t = await tally(redis.client, ns, 'dead-consumer-claimed', EVENTS, {
      'claim-ms': claimMs,
      'claim-bound-ms': `${CLAIM_TIMEOUT_MS}+${CLAIM_INTERVAL_MS}+${CLAIM_SLACK_MS}`,
      'w1-removed-ms': removedMs,
    });

    expect(claimMs).toBeLessThanOrEqual(bound);
    expect(t.lost).toBe(0);
    expect(t.unexpected).toBe(0);
    // Only the handlers w1 had started run again.
    expect(t.duplicated).toBeLessThanOrEqual(CONCURRENCY);
    if (t.viaCommit) expect(t.effectsAppliedTwice).toBe(0);
    expect(t.byConsumer.w2).toBe(EVENTS);
    expect(await pendingCount(redis.client, ns)).toBe(0);
  }, 60_000);
});
