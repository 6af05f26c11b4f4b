import { testNamespace } from '../support/redis';
import { faultKeys } from './fault-events';
import {
  FaultRedis,
  killAllWorkers,
  pendingCount,
  publishTicks,
  startWorker,
  tally,
  waitDrained,
  WorkerProcess,
} from './harness';

const EVENTS = 6_000;
const NAMES = ['w1', 'w2', 'w3'];

/** XINFO replies are flat [name, value, ...] arrays. */
function record(row: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < row.length; i += 2) out[String(row[i])] = row[i + 1];
  return out;
}

describe('fault: three instances of one service start at the same instant on a stream with a backlog', () => {
  let redis: FaultRedis;

  beforeAll(async () => {
    redis = await FaultRedis.start();
  });
  afterEach(killAllWorkers);
  afterAll(async () => {
    await killAllWorkers();
    await redis?.destroy();
  });

  it('creates the group once, without errors, and handles every event published before them exactly once between them', async () => {
    const began = Date.now();
    const ns = testNamespace('three');
    await publishTicks(redis.url, ns, EVENTS);
    expect(await redis.client.exists(faultKeys(ns).stream)).toBe(1);

    // Each worker holds its bootstrap before the bus creates its group, until all three are there.
    const workers: WorkerProcess[] = await Promise.all(
      NAMES.map((name) =>
        startWorker({
          REDIS_URL: redis.url,
          NAMESPACE: ns,
          CONSUMER_NAME: name,
          BATCH_SIZE: 50,
          CONCURRENCY: 8,
          HANDLER_DELAY_MS: 2,
          START_GATE: '1',
        }),
      ),
    );
    for (const worker of workers) worker.go();
    await Promise.all(workers.map((worker) => worker.waitForLine('ready')));
    await waitDrained(redis.client, ns, EVENTS);
    const share = await redis.client.hgetall(faultKeys(ns).byConsumer);
    const t = await tally(redis.client, ns, 'three-instances', EVENTS, {
      'by-consumer': NAMES.map((name) => `${name}:${share[name] ?? 0}`).join(','),
      seconds: ((Date.now() - began) / 1000).toFixed(1),
    });

    expect(t.lost).toBe(0);
    expect(t.duplicated).toBe(0);
    expect(t.effectsAppliedTwice).toBe(0);
    expect(t.unexpected).toBe(0);
    expect(await pendingCount(redis.client, ns)).toBe(0);

    const groups = ((await redis.client.xinfo('GROUPS', faultKeys(ns).stream)) as unknown[][]).map(record);
    expect(groups.map((g) => g.name)).toEqual(['fault']);
    const consumers = ((await redis.client.xinfo('CONSUMERS', faultKeys(ns).stream, 'fault')) as unknown[][]).map(
      record,
    );
    expect(consumers.map((c) => c.name).sort()).toEqual(NAMES);
    // The three shared the backlog.
    for (const name of NAMES) expect(t.byConsumer[name]).toBeGreaterThan(0);
    for (const worker of workers) {
      expect(worker.output).not.toMatch(/BUSYGROUP|ERROR/);
      expect(worker.stderr).toBe('');
    }
  }, 60_000);
});
