import { testNamespace, waitFor } from '../support/redis';
import {
  deliveredCount,
  effectCount,
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

const EVENTS = 20_000;
const BATCH_SIZE = 50;
const CONCURRENCY = 16;
/** Kill the worker once this many distinct ticks have been delivered; one kill per entry. */
const KILL_AT = [5_000, 12_000];
/**
 * What one SIGKILL may cost in redeliveries. A consumer holds at most 3 x batchSize - 1 entries
 * it read and has not settled (it reads the next batch of `batchSize` once fewer than
 * 2 x `batchSize` are left), and settles each as its handler ends (XACK sent in the same
 * event-loop turn, or inside the handler's `context.commit`). Only entries whose handler had
 * started and whose XACK had not landed run again after the restart, so this bound is loose.
 */
const REDELIVERY_BOUND_PER_KILL = 3 * BATCH_SIZE;

describe('fault: SIGKILL a consumer mid-stream and restart it under the same name', () => {
  let redis: FaultRedis;

  beforeAll(async () => {
    redis = await FaultRedis.start();
  });
  afterEach(killAllWorkers);
  afterAll(async () => {
    await killAllWorkers();
    await redis?.destroy();
  });

  function workerEnv(namespace: string, extra: Partial<WorkerEnv> = {}): WorkerEnv {
    return {
      REDIS_URL: redis.url,
      NAMESPACE: namespace,
      CONSUMER_NAME: 'w1',
      BATCH_SIZE,
      CONCURRENCY,
      HANDLER_DELAY_MS: 1,
      ...extra,
    };
  }

  /** Starts the worker, SIGKILLs it once `at` ticks were delivered, returns what it left pending. */
  async function runUntilKilled(env: WorkerEnv, at: number): Promise<number> {
    const worker = await startWorker(env);
    await waitFor(
      `more than ${at} ticks delivered`,
      async () => (await deliveredCount(redis.client, env.NAMESPACE)) > at,
      30_000,
    );
    const exit = await worker.kill();
    expect(exit.signal).toBe('SIGKILL');
    return pendingCount(redis.client, env.NAMESPACE);
  }

  it('loses nothing, redelivers at most what was in flight, applies effects once (via context.commit), leaves nothing pending', async () => {
    const began = Date.now();
    const ns = testNamespace('kill');
    await publishTicks(redis.url, ns, EVENTS);
    const env = workerEnv(ns);

    const pendingAtKill: number[] = [];
    for (const at of KILL_AT) pendingAtKill.push(await runUntilKilled(env, at));
    // The kills landed mid-stream: entries were read and unsettled when the process died.
    for (const pending of pendingAtKill) expect(pending).toBeGreaterThan(0);
    expect(await effectCount(redis.client, ns)).toBeLessThan(EVENTS);

    await startWorker(env);
    await waitDrained(redis.client, ns, EVENTS, 40_000);
    const t = await tally(redis.client, ns, 'kill-consumer', EVENTS, {
      kills: KILL_AT.length,
      'pending-at-kill': pendingAtKill.join('/'),
      'bound/kill': REDELIVERY_BOUND_PER_KILL,
      seconds: ((Date.now() - began) / 1000).toFixed(1),
    });

    expect(t.lost).toBe(0);
    expect(t.unexpected).toBe(0);
    expect(t.duplicated).toBeLessThanOrEqual(KILL_AT.length * REDELIVERY_BOUND_PER_KILL);
    expect(await pendingCount(redis.client, ns)).toBe(0);
    // Exactly-once effects hold when the handler writes through `context.commit` (effect,
    // dedupe marker and XACK in one MULTI); a plain write after a redelivery applies twice.
    if (t.viaCommit) expect(t.effectsAppliedTwice).toBe(0);
    else expect(t.effectsAppliedTwice).toBeLessThanOrEqual(t.duplicated);
  }, 60_000);

  it('a replacement under a new name claims what the dead consumer left pending once it is idle past claimTimeoutMs', async () => {
    const ns = testNamespace('kill-claim');
    const events = 5_000;
    await publishTicks(redis.url, ns, events);
    const tuning = JSON.stringify({ claimTimeoutMs: 1_500, claimIntervalMs: 300, deadConsumerIdleMs: 1_000 });

    const left = await runUntilKilled(workerEnv(ns, { CONSUMER_NAME: 'w1', CONSUMER_JSON: tuning }), 1_500);
    expect(left).toBeGreaterThan(0);
    await startWorker(workerEnv(ns, { CONSUMER_NAME: 'w2', CONSUMER_JSON: tuning }));
    await waitDrained(redis.client, ns, events);
    const t = await tally(redis.client, ns, 'kill-consumer-claimed', events, {
      'pending-at-kill': left,
      'claim-timeout-ms': 1_500,
    });

    expect(t.lost).toBe(0);
    expect(t.unexpected).toBe(0);
    expect(t.duplicated).toBeLessThanOrEqual(REDELIVERY_BOUND_PER_KILL);
    if (t.viaCommit) expect(t.effectsAppliedTwice).toBe(0);
    expect(await pendingCount(redis.client, ns)).toBe(0);
    // w1 owned nothing any more and stayed idle: the live consumer removed it from the group.
    await waitFor('only w2 left in the group', async () => {
      const rows = (await redis.client.xinfo('CONSUMERS', `${ns}:{ticks}`, 'fault')) as unknown[][];
      return rows.map((row) => row[1]).join() === 'w2';
    });
  }, 60_000);

  it('control: the same kill does lose events when the entry is acknowledged before the handler has done its work', async () => {
    // A handler that XACKs its own entry first stands for a library that acks early: whatever
    // it was working on when killed is gone. If this stops losing events, the kill above proves nothing.
    const ns = testNamespace('kill-early');
    const events = 1_500;
    await publishTicks(redis.url, ns, events);
    // NOTE: a long handler, so that at any moment ~CONCURRENCY handlers sit between their early XACK and their effect.
    const env = workerEnv(ns, { ACK_EARLY: '1', HANDLER_DELAY_MS: 200 });

    await runUntilKilled(env, 300);
    await startWorker(env);
    await waitFor(
      'every tick delivered and nothing pending',
      async () => (await deliveredCount(redis.client, ns)) === events && (await pendingCount(redis.client, ns)) === 0,
      30_000,
    );
    await waitFor('effects settled', async () => {
      const before = await effectCount(redis.client, ns);
      await sleep(300);
      return (await effectCount(redis.client, ns)) === before;
    });
    const t = await tally(redis.client, ns, 'kill-consumer-ack-early-control', events);

    expect(t.lost).toBeGreaterThan(0);
    expect(await pendingCount(redis.client, ns)).toBe(0);
  }, 60_000);
});
