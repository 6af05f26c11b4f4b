/**
 * Fault 5: "Redis down for 10 s: publishes fail fast with the typed error, no crash, no unhandled
 * rejection; consumers resume within 5 s of Redis coming back."
 *
 * What it tries: a worker process consumes, a publisher app in this process publishes. After a
 * first batch is processed, redis-server is SIGKILLed and kept down for REDIS_DOWN_MS (10 s, or
 * FAULT_REDIS_DOWN_MS). All that time the publisher keeps trying, one attempt after the other,
 * alternating `publish` and `publishMany`: each attempt must reject with PublishFailedError within
 * FAIL_FAST_MS. Neither the worker process nor this process may crash or have an unhandled
 * rejection (Node 20 kills a process on one, so the worker must still be alive; jest 30 fails the
 * running test on one in this process). Then redis-server is started again on the same port and directory; from the moment it
 * answers PING, new events must be published and handled by the same worker within RESUME_MS.
 * - With the append-only file the stream and the group survive the restart.
 * - Without persistence (a second, shorter outage: FAULT_NOPERSIST_DOWN_MS, 2 s) the restarted
 *   server is empty: the worker's reads hit NOGROUP and the library must recreate the group.
 */
import { PublishFailedError } from '@nest-streams/event-bus';
import { testNamespace, waitFor } from '../support/redis';
import { faultKeys } from './fault-events';
import {
  effectCount,
  FaultRedis,
  killAllWorkers,
  pendingCount,
  sleep,
  startWorker,
  tally,
  WorkerProcess,
} from './harness';
import { FaultPublisher } from './publisher';

/** The outage the issue names; FAULT_REDIS_DOWN_MS shortens it for a quick local run. */
const REDIS_DOWN_MS = Number(process.env.FAULT_REDIS_DOWN_MS ?? 10_000);
/** The outage of the no-persistence case (what matters there is the empty server, not the length). */
const NOPERSIST_DOWN_MS = Number(process.env.FAULT_NOPERSIST_DOWN_MS ?? 2_000);
/** "Fail fast": the longest one publish attempt may take to reject while Redis is down. */
const FAIL_FAST_MS = 3_000;
/** Consumers resume within this long of Redis answering PING again. */
const RESUME_MS = 5_000;
const BEFORE = 200;
const AFTER = 200;
/** Ticks of the attempts made during the outage are numbered from here (outside the tallied ranges). */
const OUTAGE_TICKS = 100_000;

interface Attempt {
  kind: 'publish' | 'publishMany';
  ms: number;
  error: unknown;
}

/** Publishes, attempt after attempt, until `untilMs` has passed; returns how each attempt ended. */
async function publishDuringOutage(publisher: FaultPublisher, untilMs: number): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (let i = 0; Date.now() < untilMs; i++) {
    const kind = i % 2 === 0 ? 'publish' : 'publishMany';
    const n = OUTAGE_TICKS + i * 10;
    const began = Date.now();
    let error: unknown;
    try {
      await (kind === 'publish' ? publisher.publishTick(n) : publisher.publishBatch(n, n + 10));
    } catch (caught) {
      error = caught;
    }
    attempts.push({ kind, ms: Date.now() - began, error });
    await sleep(100);
  }
  return attempts;
}

/** Publishes ticks [from, to) in batches of 100, retrying a batch that fails (same event ids: safe). */
async function publishWithRetry(publisher: FaultPublisher, from: number, to: number): Promise<number> {
  let retries = 0;
  for (let start = from; start < to; start += 100) {
    for (let attempt = 1; ; attempt++) {
      try {
        await publisher.publishBatch(start, Math.min(start + 100, to));
        break;
      } catch (error) {
        if (!(error instanceof PublishFailedError) || attempt === 5) throw error;
        retries++;
      }
    }
  }
  return retries;
}

/** Every attempt rejected with PublishFailedError, each within FAIL_FAST_MS (lists the ones that did not). */
function expectFailedFast(attempts: Attempt[]): void {
  expect(attempts.length).toBeGreaterThan(1);
  expect(
    attempts.filter((a) => !(a.error instanceof PublishFailedError)).map((a) => `${a.kind}: ${String(a.error)}`),
  ).toEqual([]);
  expect(attempts.filter((a) => a.ms >= FAIL_FAST_MS).map((a) => `${a.kind} took ${a.ms} ms`)).toEqual([]);
}

/** What a crash or an unhandled rejection leaves in a worker's output. */
const CRASH_SIGNS = /unhandled|UnhandledPromiseRejection|worker failed|FATAL ERROR|ERR_UNHANDLED/i;

describe('fault 5: Redis down for a while', () => {
  afterEach(killAllWorkers);
  afterAll(killAllWorkers);

  /** Runs the outage against `redis` and checks it. */
  async function outage(redis: FaultRedis, label: string, downMs: number, persistent: boolean): Promise<void> {
    const began = Date.now();
    const ns = testNamespace(label);
    const worker: WorkerProcess = await startWorker({
      REDIS_URL: redis.url,
      NAMESPACE: ns,
      CONSUMER_NAME: 'w1',
      BATCH_SIZE: 50,
      CONCURRENCY: 8,
    });
    const publisher = await FaultPublisher.open(redis.url, ns);
    try {
      await publisher.publishBatch(0, BEFORE);
      await waitFor(
        `${BEFORE} ticks processed`,
        async () => (await effectCount(redis.client, ns)) === BEFORE && (await pendingCount(redis.client, ns)) === 0,
      );

      const downAt = Date.now();
      await redis.server.kill();
      const attempts = await publishDuringOutage(publisher, downAt + downMs);
      expect(worker.isAlive).toBe(true);
      await redis.server.boot();
      const upAt = Date.now();
      const downFor = upAt - downAt;

      const retries = await publishWithRetry(publisher, BEFORE, BEFORE + AFTER);
      // Without persistence the first BEFORE ticks (and their counters) went with the data.
      const expected = persistent ? BEFORE + AFTER : AFTER;
      await waitFor(
        `the ${AFTER} ticks published after the restart processed`,
        async () => (await effectCount(redis.client, ns)) === expected && (await pendingCount(redis.client, ns)) === 0,
        RESUME_MS + 10_000,
      );
      const resumeMs = Date.now() - upAt;
      const ticks = new Set(Array.from({ length: expected }, (_, i) => (persistent ? i : BEFORE + i)));
      const t = await tally(redis.client, ns, label, ticks, {
        'down-ms': downFor,
        attempts: attempts.length,
        'fail-ms': attempts.map((a) => a.ms).join('/'),
        'not-typed': attempts.filter((a) => !(a.error instanceof PublishFailedError)).length,
        'retried-batches-after-restart': retries,
        'resume-ms': resumeMs,
        'worker-alive': worker.isAlive ? 'yes' : 'no',
        seconds: ((Date.now() - began) / 1000).toFixed(1),
      });

      expect(downFor).toBeGreaterThanOrEqual(downMs);
      expect(resumeMs).toBeLessThanOrEqual(RESUME_MS);
      expect(t.lost).toBe(0);
      expect(t.unexpected).toBe(0);
      if (t.viaCommit) expect(t.effectsAppliedTwice).toBe(0);
      expect(worker.isAlive).toBe(true);
      expect(worker.output).not.toMatch(CRASH_SIGNS);
      const groups = (await redis.client.xinfo('GROUPS', faultKeys(ns).stream)) as unknown[][];
      expect(groups.map((g) => g[g.indexOf('name') + 1])).toEqual(['fault']);
      // NOTE: last, so that a slow rejection does not hide the checks above.
      expectFailedFast(attempts);
    } finally {
      await publisher.close();
    }
  }

  it('Redis down for 10 s: publishes fail fast with the typed error, no crash, no unhandled rejection; consumers resume within 5 s of Redis coming back.', async () => {
    const redis = await FaultRedis.start();
    try {
      await outage(redis, 'redis-outage', REDIS_DOWN_MS, true);
    } finally {
      await redis.destroy();
    }
  }, 60_000);

  it('the same without persistence: the restarted Redis is empty, the library recreates the group (NOGROUP) and consumers resume within 5 s', async () => {
    const redis = await FaultRedis.start({ persistent: false });
    try {
      await outage(redis, 'redis-outage-no-persistence', NOPERSIST_DOWN_MS, false);
    } finally {
      await redis.destroy();
    }
  }, 60_000);
});
