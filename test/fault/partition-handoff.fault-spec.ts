/**
 * Partitioned streams (P = 16) under process faults, on the run's one redis-server.
 *
 * What is tried:
 * 1. Rebalance 3 -> 4 -> 3 -> 2 worker processes (two groups, `sorting` and `billing`) under a
 *    continuous publish load (120 subjects, each publishing seq 1, 2, 3, ... one after another):
 *    a fourth joins; one gets SIGTERM (graceful handoff: stop, drain, acknowledge, release); one
 *    gets SIGKILL (its leases expire, its pending entries are read back by the next owners).
 * 2. A paused owner: one of three workers is SIGSTOPped for 2 x leaseMs while it has handler runs
 *    in flight (300 ms each, and a few of 2 x leaseMs + 1 s started just before the stop, so that
 *    some end only after the instance has noticed its leases are lost), then SIGCONTed.
 *
 * What must hold (partition-checker.ts, over the workers' run logs):
 * - 0 lost: every published event has a finished run in every group; nothing stays pending;
 * - per (group, subject): a run of seq s starts only after a run of seq s-1 finished, and no two
 *   runs at once (2: except the paused instance's in-flight runs, which fencing cannot stop);
 * - per (group, partition): every run of epoch e ends before the first run of a later epoch
 *   starts (2: same exception); one instance per (group, partition, epoch); a subject's runs are
 *   all on its partition;
 * - after every change, within sessionTimeoutMs + leaseMs, every lease (group, k) is held by the
 *   instance the assignment of the live members names;
 * - 1: the join and the SIGTERM redeliver nothing (every event run exactly once before the
 *   SIGKILL); after the SIGKILL the runs again are only of entries the killed instance held
 *   (pending as p<k> in its partitions when it died);
 * - 2: the paused instance's late acknowledgements are refused: its `stats.fenced` is at least its
 *   runs that were in flight across the pause, and no plain (unfenced) XACK reaches Redis (MONITOR);
 *   the entries run again are only those it held when stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import type Redis from 'ioredis';
import { EventBusKeys, EventPublisher } from '@nest-streams/event-bus';
import { describeIf, testNamespace, testRedisClient, testRedisUrl, testTopology } from '../support/redis';
import { sleep } from './harness';
import { checkRuns, summary } from './partition-checker';
import { killAllPartitionProcesses, transpileWorker, TranspiledWorker } from './partition-process';
import {
  expectClean,
  LEASE_MS,
  now,
  PARTITIONS,
  PartitionScenarios,
  PlainAckWatch,
  startLoadPublisher,
  StepLoad,
} from './partition-scenarios';

describeIf(
  testTopology().redis === 'standalone',
  'partitioned streams run in the fault tests on one standalone redis-server only',
)('fault: partitioned streams, leases and epochs across worker processes (SIGTERM, SIGKILL, SIGSTOP)', () => {
  let redis: Redis;
  let dir: string;
  let worker: TranspiledWorker;
  let publisherApp: INestApplicationContext | undefined;
  let scenarios: PartitionScenarios;
  let watch: PlainAckWatch;

  beforeAll(async () => {
    redis = testRedisClient();
    dir = mkdtempSync(join(tmpdir(), 'partition-fault-'));
    worker = transpileWorker();
    watch = new PlainAckWatch(() => [redis]);
    scenarios = new PartitionScenarios({
      label: 'partition',
      dir,
      worker,
      redis,
      connection: { REDIS_URL: testRedisUrl() },
      keys: (ns) => new EventBusKeys(ns, { partitions: PARTITIONS }),
      startPublisher,
      acks: watch,
    });
  }, 60_000);
  afterEach(async () => {
    await killAllPartitionProcesses();
    // NOTE: each worker's output next to its run log (kept with KEEP_PARTITION_LOGS=1); the MONITOR stopped.
    scenarios?.cleanup();
    await publisherApp?.close();
    publisherApp = undefined;
  });
  afterAll(async () => {
    await killAllPartitionProcesses();
    worker?.remove();
    await redis?.quit();
    if (!process.env.KEEP_PARTITION_LOGS) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`partition fault logs kept in ${dir}\n`);
  });

  async function startPublisher(ns: string): Promise<EventPublisher> {
    publisherApp = await startLoadPublisher(testRedisUrl(), ns);
    return publisherApp.get(EventPublisher);
  }

  it('rebalances 3 -> 4 -> 3 -> 2 instances under load: nothing lost, per-subject order, epochs in turn, redeliveries only of what the killed one held', async () => {
    await scenarios.rebalance(testNamespace('phand'));
  }, 80_000);

  it('fences a paused owner: its late acknowledgements are refused, nothing it held runs twice at once after it resumes, nothing lost', async () => {
    await scenarios.pausedOwner(testNamespace('ppause'));
  }, 70_000);

  it('keeps per-subject order across an owner stall shorter than its lease (past its local deadline, lease never lost)', async () => {
    // What is tried: one of three owners is SIGSTOPped for STALL_MS, longer than leaseMs minus the
    // safety margin (its local deadline: it must start no new work) but shorter than leaseMs (its
    // leases never expire). An owner that finds itself past its local deadline gives the
    // partition up (its next grant, a new epoch, reads back what it left), rather than skip
    // entries and run their successors. Must hold: nothing lost, each subject's events start in
    // order (no event runs before its predecessor finished), no overlap, epochs in turn, and
    // only what r2 had in flight at the stall ran twice (its settles were fenced).
    const began = Date.now();
    const ns = testNamespace('pstall');
    const keys = new EventBusKeys(ns, { partitions: PARTITIONS });
    const groups = ['sorting'];
    const STALL_MS = LEASE_MS - 300;
    await scenarios.startWatch(ns);
    const publisher = await startPublisher(ns);
    // NOTE: a claim timeout of 3 s, so an entry left pending unrun is claimed again within the test.
    const workers = await scenarios.startInstances(ns, ['r1', 'r2', 'r3'], 'sorting:50', {
      CLAIM_TIMEOUT_MS: 3_000,
      LOG_LEVEL: 'log',
    });
    await scenarios.waitOwned(keys, groups, ['r1', 'r2', 'r3'], now(), 'three started');
    const load = new StepLoad(publisher, scenarios.subjects, 300);
    await sleep(2_500);

    const r2 = workers.find((i) => i.name === 'r2')!;
    const ownersBefore = await scenarios.leaseOwners(keys, groups);
    r2.process.signal('SIGSTOP');
    await sleep(STALL_MS - (now() - (await scenarios.stopped(r2))));
    r2.process.signal('SIGCONT');
    await sleep(3_000);
    const ownersAfter = await scenarios.leaseOwners(keys, groups);

    await load.stop();
    expect(load.failures).toEqual([]);
    await scenarios.waitAllHandled(keys, groups, workers, {}, load.published, 30_000);
    for (const i of workers) i.process.signal('SIGTERM');
    for (const i of workers) expect(await i.process.waitForExit(15_000)).toEqual({ code: 0, signal: null });

    const { runs, torn, skips } = scenarios.readRuns(workers, {});
    const report = checkRuns(load.published, runs, { groups, partitionOf: (s) => keys.partitionOf(s) });
    const r2Stats = r2.stats().groups.sorting.stats;
    process.stdout.write(
      `${summary('partition-stall', report, {
        'stall-ms': STALL_MS,
        'skipped-unrun': skips.length,
        'skipped-partitions': [...new Set(skips.map((l) => `${l.instance}:p${l.partition}/e${l.epoch}`))].join(','),
        'r2-claimed': r2Stats.claimed,
        'r2-fenced': r2Stats.fenced,
        'plain-xacks': scenarios.plainAcks.length,
        torn,
        seconds: ((Date.now() - began) / 1000).toFixed(1),
      })}\n`,
    );
    if (report.orderViolations.length > 0)
      process.stdout.write(
        `partition-stall order violations (first 10):\n  ${report.orderViolations.slice(0, 10).join('\n  ')}\n`,
      );

    // The owners are the same three instances (partitions given up are granted again).
    const ownerSet = (owners: Map<string, Array<string | undefined>>): string[] =>
      [...new Set([...owners.values()].flat().filter((o): o is string => o !== undefined))].sort();
    expect(ownerSet(ownersAfter)).toEqual(ownerSet(ownersBefore));
    expectClean(report);
    expect(report.duplicates).toBeLessThanOrEqual(r2Stats.fenced);
    expect(scenarios.plainAcks).toEqual([]);
    expect(await scenarios.pendingTotal(keys, groups)).toBe(0);
  }, 60_000);
});
