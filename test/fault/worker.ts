import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { Inject, Injectable, LogLevel, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Redis from 'ioredis';
import { EventBusModule, Subscribe } from '@nest-streams/event-bus';
import type { ConsumerTuning, EventBusModuleOptions, EventContext } from '@nest-streams/event-bus';
import { FaultTick, faultKeys } from './fault-events';

/**
 * A consumer process for the fault tests, configured by env (see `WorkerEnv` in harness.ts):
 * one service (consumer group) with one handler on FaultTick. The handler writes what happened
 * to Redis, so the test can count across SIGKILLs:
 *   deliveries[n] += 1 when a handler starts on tick n,
 *   effects[n]    += 1 as its side effect, through `context.commit` when the library has it
 *                     (effect + processed marker + XACK in one MULTI), else a plain write,
 *   redriven[n]   += 1 when the context says the delivery is a redrive,
 *   runs          one `{ n, consumer, start, end }` per handler run (RECORD_RUNS=1), whether it
 *                     succeeded or threw; `end` is taken after the effect was committed.
 * The counters are keyed by group (`faultKeys(namespace, group)`).
 * Prints `ready` once bootstrapped (consuming); exits when its stdin closes (never outlives the test).
 */

interface WorkerConfig {
  redisUrl: string;
  namespace: string;
  group: string;
  consumerName?: string;
  delayMs: number;
  poison: Set<string>;
  /** Control only: XACK the entry before the handler's work, as a broken library would. */
  ackEarly: boolean;
  /** Use `context.commit` when the library provides it. @default true */
  useCommit: boolean;
  /** Wait for a `go` line on stdin before consuming (to start several workers at one instant). */
  gate: boolean;
  /** Log every handler run with its start and end time (epoch ms, this host's clock). */
  recordRuns: boolean;
  consumer: ConsumerTuning & Record<string, unknown>;
  bus: Partial<EventBusModuleOptions> & Record<string, unknown>;
}

function readConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`worker: ${name} is not set`);
    return value;
  };
  const int = (name: string): number | undefined => (env[name] ? Number(env[name]) : undefined);
  const consumer: ConsumerTuning & Record<string, unknown> = { blockMs: 200, ...JSON.parse(env.CONSUMER_JSON ?? '{}') };
  if (int('BATCH_SIZE') !== undefined) consumer.batchSize = int('BATCH_SIZE');
  if (int('CONCURRENCY') !== undefined) consumer.concurrency = int('CONCURRENCY');
  return {
    redisUrl: required('REDIS_URL'),
    namespace: required('NAMESPACE'),
    group: env.GROUP ?? 'fault',
    consumerName: env.CONSUMER_NAME || undefined,
    delayMs: int('HANDLER_DELAY_MS') ?? 0,
    poison: new Set((env.POISON_IDS ?? '').split(',').filter(Boolean)),
    ackEarly: env.ACK_EARLY === '1',
    useCommit: env.USE_COMMIT !== '0',
    gate: env.START_GATE === '1',
    recordRuns: env.RECORD_RUNS === '1',
    consumer,
    bus: JSON.parse(env.BUS_JSON ?? '{}'),
  };
}

const config = readConfig(process.env);
const keys = faultKeys(config.namespace, config.group);

// NOTE: the test holds our stdin; when it goes away (test crashed or was killed) so do we.
const stdinLines = createInterface({ input: process.stdin });
stdinLines.on('close', () => process.exit(3));

/** The minimal shape the fault handler needs of the lead's `context.commit((tx) => ...)`. */
type Commit = (
  work: (tx: { hincrby(key: string, field: string, increment: number): unknown }) => void,
) => Promise<unknown>;

/** `context.commit` when this version of the library has it (feature detection, no version switch). */
function commitOf(context: EventContext): Commit | undefined {
  const commit = (context as EventContext & { commit?: unknown }).commit;
  return typeof commit === 'function' ? (commit.bind(context) as Commit) : undefined;
}

@Injectable()
class FaultStore implements OnApplicationShutdown {
  readonly redis = new Redis(config.redisUrl, {
    connectionName: `fault-worker:${config.consumerName ?? process.pid}`,
  }).on('error', (error: Error) => process.stderr.write(`fault worker redis: ${error.message}\n`));

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Injectable()
class TickHandler {
  constructor(@Inject(FaultStore) private readonly store: FaultStore) {}

  @Subscribe(FaultTick)
  async onTick(tick: FaultTick, context: EventContext): Promise<void> {
    const start = Date.now();
    try {
      await this.handle(tick, context);
    } finally {
      if (config.recordRuns) {
        await this.store.redis.rpush(
          keys.runs,
          JSON.stringify({ n: tick.n, consumer: context.consumer, start, end: Date.now() }),
        );
      }
    }
  }

  private async handle(tick: FaultTick, context: EventContext): Promise<void> {
    const redis = this.store.redis;
    const started = redis
      .multi()
      .hincrby(keys.deliveries, String(tick.n), 1)
      .hincrby(keys.byConsumer, context.consumer, 1);
    if (context.redrive) started.hincrby(keys.redriven, String(tick.n), 1);
    await started.exec();
    if (config.ackEarly) await redis.xack(keys.stream, context.group, context.entryId);
    if (config.poison.has(tick.id)) throw new Error(`poison tick ${tick.id} always fails`);
    if (config.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.delayMs));
    const commit = config.useCommit ? commitOf(context) : undefined;
    if (commit) {
      await commit((tx) => {
        tx.hincrby(keys.effects, String(tick.n), 1);
        tx.hincrby(keys.modes, 'commit', 1);
      });
    } else {
      await redis.multi().hincrby(keys.effects, String(tick.n), 1).hincrby(keys.modes, 'plain', 1).exec();
    }
  }
}

/** With START_GATE=1, holds bootstrap (before any consumer group exists) until the test writes `go`. */
@Injectable()
class StartGate implements OnModuleInit {
  async onModuleInit(): Promise<void> {
    if (!config.gate) return;
    process.stdout.write('gated\n');
    await new Promise<void>((resolve) => stdinLines.on('line', (line) => line.trim() === 'go' && resolve()));
  }
}

@Module({
  imports: [EventBusModule.forFeature({ group: config.group, source: `${config.group}-service` })],
  providers: [FaultStore, TickHandler, StartGate],
})
class FaultServiceModule {}

@Module({
  imports: [
    EventBusModule.forRoot({
      redis: config.redisUrl,
      namespace: config.namespace,
      source: 'fault-worker',
      consumerName: config.consumerName,
      consumer: config.consumer,
      ...config.bus,
      isGlobal: true,
    }),
    FaultServiceModule,
  ],
})
class FaultWorkerModule {}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

async function main(): Promise<void> {
  const level = LEVELS.indexOf((process.env.LOG_LEVEL ?? 'warn') as LogLevel);
  const app = await NestFactory.createApplicationContext(FaultWorkerModule, {
    logger: LEVELS.slice(0, level < 0 ? 3 : level + 1),
  });
  // NOTE: useProcessExit: after a clean shutdown the process exits 0 (instead of re-raising SIGTERM).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
