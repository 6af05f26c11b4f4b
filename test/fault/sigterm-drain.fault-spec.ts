import { testNamespace, waitFor } from '../support/redis';
import {
  deliveredCount,
  effectCount,
  FaultRedis,
  killAllWorkers,
  pendingCount,
  publishTicks,
  startWorker,
  tally,
  waitDrained,
  WorkerEnv,
} from './harness';

const EVENTS = 5_000;

describe('fault: SIGTERM a consumer under load', () => {
  let redis: FaultRedis;

  beforeAll(async () => {
    redis = await FaultRedis.start();
  });
  afterEach(killAllWorkers);
  afterAll(async () => {
    await killAllWorkers();
    await redis?.destroy();
  });

  it('drains and exits 0 within 10 s leaving nothing pending; the restarted consumer handles the rest, nothing twice', async () => {
    const began = Date.now();
    const ns = testNamespace('sigterm');
    await publishTicks(redis.url, ns, EVENTS);
    const env: WorkerEnv = {
      REDIS_URL: redis.url,
      NAMESPACE: ns,
      CONSUMER_NAME: 'w1',
      BATCH_SIZE: 50,
      CONCURRENCY: 16,
      HANDLER_DELAY_MS: 3,
    };

    const worker = await startWorker(env);
    await waitFor('1000 ticks delivered', async () => (await deliveredCount(redis.client, ns)) > 1_000, 30_000);
    const terminatedAt = Date.now();
    worker.terminate();
    const exit = await worker.waitForExit(10_000);
    const exitMs = Date.now() - terminatedAt;

    expect({ exit, output: worker.stderr }).toEqual({ exit: { code: 0, signal: null }, output: '' });
    expect(exitMs).toBeLessThan(10_000);
    expect(await pendingCount(redis.client, ns)).toBe(0);
    // It stopped under load: work was left in the stream for the next instance.
    const doneAtExit = await effectCount(redis.client, ns);
    expect(doneAtExit).toBeLessThan(EVENTS);
    // Every tick it started it also finished: a drain, not an abandon.
    expect(await deliveredCount(redis.client, ns)).toBe(doneAtExit);

    await startWorker(env);
    await waitDrained(redis.client, ns, EVENTS);
    const t = await tally(redis.client, ns, 'sigterm-drain', EVENTS, {
      'done-at-sigterm-exit': doneAtExit,
      'exit-ms': exitMs,
      seconds: ((Date.now() - began) / 1000).toFixed(1),
    });

    expect(t.lost).toBe(0);
    expect(t.duplicated).toBe(0);
    expect(t.effectsAppliedTwice).toBe(0);
    expect(t.unexpected).toBe(0);
    expect(await pendingCount(redis.client, ns)).toBe(0);
  }, 60_000);
});
