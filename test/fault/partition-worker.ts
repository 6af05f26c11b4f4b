import 'reflect-metadata';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Injectable, LogLevel, Module, OnApplicationShutdown, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventBusExplorer } from '@nest-streams/event-bus/event-bus.explorer';
import { EventBusModule, Subscribe } from '@nest-streams/event-bus';
import type { EventContext } from '@nest-streams/event-bus';
import type { GroupRunner, PartitionedGroup } from '@nest-streams/event-bus/consumer/partitioned-group';
import { DeliveryProcessor } from '@nest-streams/event-bus/consumer/delivery-processor';
import { PartitionStep } from './partition-events';

/**
 * A consumer process of the partition fault tests (partition-handoff.fault-spec.ts), configured
 * by env (see `PartitionWorkerEnv` in partition-handoff.fault-spec.ts): one Nest app, a partitioned
 * namespace (PARTITIONS, 16), one handler per group of WORKER_GROUPS on PartitionStep. Every handler run
 * appends two JSON lines to LOG_FILE (one file per process, appendFileSync, so a SIGKILL loses at
 * most the line being written):
 *   {"ev":"start", run, group, stream, eventId, entryId, subject, seq, instance, partition, epoch, deliveryCount, start}
 *   {"ev":"end",   ...the same...,                                                              end}
 * Times are `performance.timeOrigin + performance.now()` (ms since the Unix epoch, this host's
 * clock, monotonic within the process), comparable across the processes of one host.
 * Every 100 ms, and once more at shutdown, it writes STATS_FILE (JSON: the counters of every
 * group, `stats.fenced` among them, and the partitions it owns with their epochs).
 * After a SIGUSR2 (it prints `long`), the runs that start within LONG_WINDOW_MS (300) take LONG_MS. Stdin closing (the test went away) exits the process. Prints `ready` once consuming.
 */

const env = process.env;
function required(name: string): string {
  const value = env[name];
  if (!value) throw new Error(`partition-worker: ${name} is not set`);
  return value;
}

const instance = required('CONSUMER_NAME');
const logFile = required('LOG_FILE');
const statsFile = required('STATS_FILE');
/** `group:ms,group:ms`: the groups, and each one's handler duration. */
const groups = required('WORKER_GROUPS')
  .split(',')
  .map((spec) => {
    const [group, ms] = spec.split(':');
    return { group, ms: Number(ms ?? 0) };
  });
/** The handler duration of runs started within LONG_WINDOW_MS after a SIGUSR2. */
const longMs = Number(env.LONG_MS ?? 0);
const longWindowMs = Number(env.LONG_WINDOW_MS ?? 300);
/** Until when (`now()`) runs that start take `longMs`. */
let longUntil = 0;
// NOTE: a window, not a toggle: two signals of one kind sent close together may arrive as one.
process.on('SIGUSR2', () => {
  longUntil = now() + longWindowMs;
  process.stdout.write('long\n');
});

const now = (): number => performance.timeOrigin + performance.now();
let runs = 0;

/**
 * DIAG=1: a diagnostic, no change of behaviour: every delivery the processor is given while its
 * partition's lease is not valid by the local deadline (so it leaves it pending and runs nothing)
 * gets a `{"ev":"skip", ...}` line in the run log, with the time since the lease's last renewal.
 */
if (env.DIAG === '1') {
  type Scope = { k: number; epoch: number; valid(): boolean };
  type Processor = { deps: { group: string; scope?: Scope }; process(d: unknown, pause: unknown): unknown };
  const proto = DeliveryProcessor.prototype as unknown as Processor;
  const original = proto.process;
  proto.process = function (this: Processor, d: unknown, pause: unknown) {
    const scope = this.deps.scope;
    if (scope && !scope.valid()) {
      const delivery = d as { entryId: string; envelope?: { subject?: string; data?: { seq?: number } } };
      appendFileSync(
        logFile,
        `${JSON.stringify({ ev: 'skip', group: this.deps.group, instance, partition: scope.k, epoch: scope.epoch, entryId: delivery.entryId, subject: delivery.envelope?.subject, seq: delivery.envelope?.data?.seq, at: now() })}\n`,
      );
    }
    return original.call(this, d, pause);
  };
}

function handlerClass(group: string, ms: number): Type {
  @Injectable()
  class StepHandler {
    @Subscribe(PartitionStep)
    async onStep(step: PartitionStep, ctx: EventContext): Promise<void> {
      const run = {
        run: `${instance}#${++runs}`,
        group,
        stream: ctx.stream,
        eventId: ctx.envelope.id,
        entryId: ctx.entryId,
        subject: step.subject,
        seq: step.seq,
        instance,
        partition: ctx.partition,
        epoch: ctx.epoch ?? -1,
        deliveryCount: ctx.deliveryCount,
      };
      const duration = now() < longUntil ? longMs : ms;
      const start = now();
      appendFileSync(logFile, `${JSON.stringify({ ev: 'start', ...run, start })}\n`);
      if (duration > 0) await new Promise((resolve) => setTimeout(resolve, duration));
      appendFileSync(logFile, `${JSON.stringify({ ev: 'end', ...run, start, end: now() })}\n`);
    }
  }
  return StepHandler;
}

function groupModule(group: string, ms: number): Type {
  @Module({
    imports: [EventBusModule.forFeature({ group, source: `${group}-service` })],
    providers: [handlerClass(group, ms)],
  })
  class GroupModule {}
  return GroupModule;
}

/** The group runners, kept from bootstrap on (the explorer forgets them at shutdown; their counters stay). */
let runners: Map<string, GroupRunner> | undefined;

/** The counters and owned partitions of every group, written atomically (rename). */
function writeStats(final: boolean): void {
  if (!runners) return;
  const out: Record<string, unknown> = {};
  for (const [group, runner] of runners) {
    const partitions = (runner as PartitionedGroup).partitions;
    out[group] = {
      stats: { ...runner.stats },
      inFlight: runner.inFlight,
      partitions: partitions ? [...partitions] : [],
    };
  }
  const tmp = `${statsFile}.tmp`;
  writeFileSync(tmp, JSON.stringify({ instance, pid: process.pid, at: now(), final, groups: out }));
  renameSync(tmp, statsFile);
}

@Injectable()
class StatsWriter implements OnApplicationShutdown {
  private readonly timer = setInterval(() => writeStats(false), 100).unref();

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    writeStats(true);
  }
}

const options = JSON.parse(env.BUS_JSON ?? '{}') as Record<string, unknown>;

@Module({
  imports: [
    EventBusModule.forRoot({
      redis: required('REDIS_URL'),
      namespace: required('NAMESPACE'),
      source: 'partition-worker',
      consumerName: instance,
      partitions: Number(env.PARTITIONS ?? 16),
      partitioning: {
        leaseMs: Number(required('LEASE_MS')),
        heartbeatMs: Number(required('HEARTBEAT_MS')),
        sessionTimeoutMs: Number(required('SESSION_TIMEOUT_MS')),
      },
      consumer: {
        blockMs: 200,
        batchSize: Number(env.BATCH_SIZE ?? 20),
        concurrency: Number(env.CONCURRENCY ?? 32),
        ...(env.CLAIM_TIMEOUT_MS
          ? {
              claimTimeoutMs: Number(env.CLAIM_TIMEOUT_MS),
              claimIntervalMs: Math.ceil(Number(env.CLAIM_TIMEOUT_MS) / 4),
            }
          : {}),
      },
      metrics: false,
      tracing: false,
      ...options,
      isGlobal: true,
    }),
    ...groups.map(({ group, ms }) => groupModule(group, ms)),
  ],
  providers: [StatsWriter],
})
class PartitionWorkerModule {}

// NOTE: the test holds our stdin; when it goes away (test crashed or was killed) so do we.
const stdinLines = createInterface({ input: process.stdin });
stdinLines.on('close', () => process.exit(3));

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

async function main(): Promise<void> {
  writeFileSync(logFile, '', { flag: 'a' });
  const level = LEVELS.indexOf((env.LOG_LEVEL ?? 'warn') as LogLevel);
  const app = await NestFactory.createApplicationContext(PartitionWorkerModule, {
    logger: LEVELS.slice(0, level < 0 ? 3 : level + 1),
  });
  runners = new Map(app.get(EventBusExplorer).groups);
  writeStats(false);
  // NOTE: useProcessExit: after a clean shutdown the process exits 0 (instead of re-raising SIGTERM).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`partition worker failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
