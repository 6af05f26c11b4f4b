/**
 * Fault 9: "A handler slower than the claim timeout is not run twice concurrently."
 *
 * What it tries: two worker processes of one group, each claiming idle entries every 200 ms with
 * a 1 s claim timeout, share events whose handler takes 2.5 s, longer than the claim timeout, and
 * hold more entries than they run at once (the rest wait in the dispatcher, also past the claim
 * timeout). Every handler run is logged in Redis with its start and end (RECORD_RUNS). Checked:
 * every event ran exactly once, no two runs of one event overlap in time, nothing lost or pending.
 *
 * The control makes the overlap happen on purpose (a second consumer whose claim timeout, 100 ms,
 * is shorter than the first one's lease renewals) to show the overlap check does catch one.
 */
import type Redis from 'ioredis';
import { testNamespace, waitFor } from '../support/redis';
import { faultKeys } from './fault-events';
import {
  FaultRedis,
  killAllWorkers,
  pendingCount,
  publishTicks,
  startWorker,
  tally,
  waitDrained,
  WorkerEnv,
} from './harness';

const EVENTS = 24;
const HANDLER_DELAY_MS = 2_500;
const CLAIM_TIMEOUT_MS = 1_000;
const CLAIM_INTERVAL_MS = 200;

interface Run {
  n: number;
  consumer: string;
  start: number;
  end: number;
}

/** Every handler run, once each run that started (a `deliveries` count) has ended and been logged. */
async function allRuns(redis: Redis, namespace: string): Promise<Run[]> {
  const keys = faultKeys(namespace);
  await waitFor(
    'every handler run that started has ended',
    async () => {
      const started = Object.values(await redis.hgetall(keys.deliveries)).reduce((sum, k) => sum + Number(k), 0);
      return (await redis.llen(keys.runs)) === started;
    },
    10_000,
  );
  return (await redis.lrange(keys.runs, 0, -1)).map((line) => JSON.parse(line) as Run);
}

/** Pairs of runs of one event that were going on at the same time. */
function overlaps(runs: Run[]): Array<[Run, Run]> {
  const byTick = new Map<number, Run[]>();
  for (const run of runs) byTick.set(run.n, [...(byTick.get(run.n) ?? []), run]);
  const found: Array<[Run, Run]> = [];
  for (const list of byTick.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) if (list[i].start < list[i - 1].end) found.push([list[i - 1], list[i]]);
  }
  return found;
}

describe('fault 9: a handler slower than the claim timeout', () => {
  let redis: FaultRedis;

  beforeAll(async () => {
    redis = await FaultRedis.start();
  });
  afterEach(killAllWorkers);
  afterAll(async () => {
    await killAllWorkers();
    await redis?.destroy();
  });

  function env(ns: string, name: string, claimTimeoutMs = CLAIM_TIMEOUT_MS): WorkerEnv {
    return {
      REDIS_URL: redis.url,
      NAMESPACE: ns,
      CONSUMER_NAME: name,
      BATCH_SIZE: 4,
      CONCURRENCY: 3,
      HANDLER_DELAY_MS,
      RECORD_RUNS: '1',
      CONSUMER_JSON: JSON.stringify({ claimTimeoutMs, claimIntervalMs: CLAIM_INTERVAL_MS }),
    };
  }

  it('A handler slower than the claim timeout is not run twice concurrently.', async () => {
    const began = Date.now();
    const ns = testNamespace('slow-handler');
    await publishTicks(redis.url, ns, EVENTS);
    await Promise.all([startWorker(env(ns, 'w1')), startWorker(env(ns, 'w2'))]);
    await waitDrained(redis.client, ns, EVENTS, 40_000);
    const runs = await allRuns(redis.client, ns);
    const found = overlaps(runs);
    const t = await tally(redis.client, ns, 'slow-handler-no-overlap', EVENTS, {
      'handler-ms': HANDLER_DELAY_MS,
      'claim-timeout-ms': CLAIM_TIMEOUT_MS,
      runs: runs.length,
      overlaps: found.length,
      'by-consumer': Object.entries(runsByConsumer(runs))
        .map(([c, k]) => `${c}:${k}`)
        .join(','),
      seconds: ((Date.now() - began) / 1000).toFixed(1),
    });

    expect(found).toEqual([]);
    expect(runs).toHaveLength(EVENTS);
    expect(new Set(runs.map((r) => r.n)).size).toBe(EVENTS);
    for (const run of runs) expect(run.end - run.start).toBeGreaterThanOrEqual(HANDLER_DELAY_MS);
    expect(t.lost).toBe(0);
    expect(t.duplicated).toBe(0);
    expect(t.effectsAppliedTwice).toBe(0);
    expect(await pendingCount(redis.client, ns)).toBe(0);
    // Both instances worked (so each had the chance to claim from the other).
    expect(Object.keys(runsByConsumer(runs)).sort()).toEqual(['w1', 'w2']);
  }, 60_000);

  it("control: a consumer whose claim timeout is shorter than the other one's lease renewal does run a slow handler twice at once, and the check sees it", async () => {
    const ns = testNamespace('slow-handler-control');
    const events = 6;
    await publishTicks(redis.url, ns, events);
    // Both booted but held; w1 goes first and starts its handlers, then w2, which takes entries idle for 100 ms.
    const [w1, w2] = await Promise.all([
      startWorker({ ...env(ns, 'w1'), START_GATE: '1' }),
      startWorker({ ...env(ns, 'w2', 100), START_GATE: '1' }),
    ]);
    w1.go();
    await waitFor('w1 running its handlers', async () => (await redis.client.hlen(faultKeys(ns).deliveries)) >= 3);
    w2.go();
    await waitFor(
      'every tick applied',
      async () => (await redis.client.hlen(faultKeys(ns).effects)) === events,
      40_000,
    );
    await waitFor('nothing pending', async () => (await pendingCount(redis.client, ns)) === 0, 10_000);
    const runs = await allRuns(redis.client, ns);
    const found = overlaps(runs);
    await tally(redis.client, ns, 'slow-handler-overlap-control', events, {
      runs: runs.length,
      overlaps: found.length,
    });

    expect(found.length).toBeGreaterThan(0);
  }, 60_000);
});

/** Handler runs per consumer. */
function runsByConsumer(runs: Run[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const run of runs) out[run.consumer] = (out[run.consumer] ?? 0) + 1;
  return out;
}
