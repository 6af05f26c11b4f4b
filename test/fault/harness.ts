import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import { RedisServer } from '../support/redis-server';
import { waitFor } from '../support/redis';
import { faultKeys } from './fault-events';
import { FaultPublisher } from './publisher';

/** The repo root: workers run from there so tsconfig.json and its path aliases apply. */
const ROOT = resolve(__dirname, '../..');
const WORKER = 'test/fault/worker.ts';
const PUBLISHER = 'test/fault/publisher.ts';

/** What worker.ts reads from its environment. */
export interface WorkerEnv {
  REDIS_URL: string;
  NAMESPACE: string;
  /** @default 'fault' */
  GROUP?: string;
  /** Keep it across a restart so the new process reads back the old one's pending entries. */
  CONSUMER_NAME?: string;
  HANDLER_DELAY_MS?: number;
  BATCH_SIZE?: number;
  CONCURRENCY?: number;
  /** Comma-separated tick ids (`tick-<n>`) whose handler always throws. */
  POISON_IDS?: string;
  /** More consumer tuning as JSON, e.g. `{"maxAttempts":3,"claimTimeoutMs":1000}`. */
  CONSUMER_JSON?: string;
  /** More root module options as JSON, e.g. `{"dedupe":{"enabled":true}}`. */
  BUS_JSON?: string;
  /** '1': the handler XACKs its entry before working (a control that must lose events). */
  ACK_EARLY?: '0' | '1';
  /** '0': apply the effect with a plain write even when `context.commit` exists. */
  USE_COMMIT?: '0' | '1';
  /** '1': hold bootstrap until `go()` (start several workers at one instant). */
  START_GATE?: '0' | '1';
  /** '1': log every handler run with its start and end time (`faultKeys(..).runs`). */
  RECORD_RUNS?: '0' | '1';
  /** @default 'warn' */
  LOG_LEVEL?: string;
}

/** What publisher.ts reads from its environment when run as a child process. */
export interface PublisherEnv {
  REDIS_URL: string;
  NAMESPACE: string;
  /** @default 0 */
  FROM?: number;
  COUNT: number;
  /** Ticks per publishMany. @default 1000 */
  BATCH_SIZE?: number;
  /** The bus's `publishRetries`. @default the library's */
  PUBLISH_RETRIES?: number;
  /** Pause between batches. @default 0 */
  PAUSE_MS?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const alive = new Set<WorkerProcess>();

/** One worker.ts child process; stdout and stderr are kept for assertions and failure messages. */
export class WorkerProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit?: Exit;

  private constructor(
    readonly label: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    alive.add(this);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        alive.delete(this);
        resolveExit(this.exit);
      }),
    );
  }

  static spawn(
    env: WorkerEnv | PublisherEnv,
    label = ('CONSUMER_NAME' in env && env.CONSUMER_NAME) || 'worker',
    script = WORKER,
  ): WorkerProcess {
    const vars: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) if (value !== undefined) vars[name] = String(value);
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', script],
      {
        cwd: ROOT,
        env: { ...process.env, ...vars, TS_NODE_PROJECT: resolve(ROOT, 'tsconfig.json') },
        stdio: 'pipe',
      },
    );
    return new WorkerProcess(label, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get isAlive(): boolean {
    return this.exit === undefined;
  }

  /** Everything the worker printed, for failure messages and log checks. */
  get output(): string {
    return `${this.stdout}${this.stderr}`;
  }

  /** Resolves once stdout has the line `line`; fails early if the worker exits first. */
  async waitForLine(line: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stdout.split('\n').includes(line)) {
      if (!this.isAlive)
        throw new Error(
          `${this.label} exited (${JSON.stringify(this.exit)}) before printing "${line}":\n${this.output}`,
        );
      if (Date.now() > deadline)
        throw new Error(`${this.label} did not print "${line}" within ${timeoutMs} ms:\n${this.output}`);
      await sleep(20);
    }
  }

  /** Lets a worker started with START_GATE=1 go on bootstrapping (create its group, consume). */
  go(): void {
    this.child.stdin.write('go\n');
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed. Resolves once the process is gone. */
  async kill(): Promise<Exit> {
    if (this.isAlive) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Sends SIGTERM (graceful shutdown) without waiting. */
  terminate(): void {
    if (this.isAlive) this.child.kill('SIGTERM');
  }

  /** Waits for the process to exit; fails (and SIGKILLs it) after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.label} did not exit within ${timeoutMs} ms:\n${this.output}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
      if (this.isAlive) await this.kill();
    }
  }
}

/** Spawns a worker and waits for `ready` (bootstrapped, consuming). */
export async function startWorker(env: WorkerEnv, label?: string): Promise<WorkerProcess> {
  const worker = WorkerProcess.spawn(env, label);
  try {
    await worker.waitForLine(env.START_GATE === '1' ? 'gated' : 'ready');
  } catch (error) {
    await worker.kill();
    throw error;
  }
  return worker;
}

/**
 * Spawns publisher.ts as a child process and waits for `ready` (app created, nothing sent yet).
 * Its stdout then gets one `published <from> <to>` / `failed <from> <to> <error>` line per batch.
 */
export async function startPublisher(env: PublisherEnv, label = 'publisher'): Promise<WorkerProcess> {
  const publisher = WorkerProcess.spawn(env, label, PUBLISHER);
  try {
    await publisher.waitForLine('ready');
  } catch (error) {
    await publisher.kill();
    throw error;
  }
  return publisher;
}

/** SIGKILLs every worker still running (afterEach: a failed test must not leave processes behind). */
export async function killAllWorkers(): Promise<void> {
  await Promise.all([...alive].map((worker) => worker.kill()));
}

/**
 * A redis-server of the fault test's own, with an append-only file fsynced on every write, and a
 * client to it. `server.kill()` + `server.boot()` crash and restart it on the same port and
 * directory (the AOF is read back). `{ persistent: false }`: no AOF, a restart starts empty.
 */
export class FaultRedis {
  private constructor(
    readonly server: RedisServer,
    readonly client: Redis,
  ) {}

  static async start(options: { persistent?: boolean } = {}): Promise<FaultRedis> {
    const args = options.persistent === false ? [] : ['--appendonly', 'yes', '--appendfsync', 'always'];
    const server = await RedisServer.start({ args });
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    // NOTE: while a test has the server down, this client reconnects; its errors are expected.
    client.on('error', () => undefined);
    return new FaultRedis(server, client);
  }

  get url(): string {
    return this.server.url;
  }

  async destroy(): Promise<void> {
    this.client.disconnect();
    await this.server.destroy();
  }
}

/** Entries of `group` read and not acknowledged, on the ticks stream (or on `key`, e.g. the group's redrive stream). */
export async function pendingCount(
  redis: Redis,
  namespace: string,
  group = 'fault',
  key = faultKeys(namespace).stream,
): Promise<number> {
  const summary = (await redis.xpending(key, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

/** Entries pending per consumer of `group` on the ticks stream (XPENDING summary). */
export async function pendingByConsumer(
  redis: Redis,
  namespace: string,
  group = 'fault',
): Promise<Record<string, number>> {
  const summary = (await redis.xpending(faultKeys(namespace).stream, group)) as [
    number,
    string | null,
    string | null,
    Array<[string, string]> | null,
  ];
  return Object.fromEntries((summary[3] ?? []).map(([name, count]) => [name, Number(count)]));
}

/** Names of the consumers `group` has on the ticks stream (XINFO CONSUMERS). */
export async function consumerNames(redis: Redis, namespace: string, group = 'fault'): Promise<string[]> {
  const rows = (await redis.xinfo('CONSUMERS', faultKeys(namespace).stream, group)) as unknown[][];
  return rows.map((row) => String(row[row.indexOf('name') + 1])).sort();
}

/** The counts a fault test asserts, read from what the workers wrote. */
export interface Tally {
  published: number;
  /** Published ticks whose effect was applied at least once. */
  processed: number;
  /** Published ticks whose effect was never applied. */
  lost: number;
  /** Handler runs beyond the first, summed over ticks: redeliveries. */
  duplicated: number;
  /** Effect applications beyond the first, summed over ticks: what exactly-once must keep at 0. */
  effectsAppliedTwice: number;
  /** Ticks a handler saw that were never published (a breaker reaching a handler, say). */
  unexpected: number;
  /** Every effect went through `context.commit` (the library has the exactly-once helper). */
  viaCommit: boolean;
  /** Handler runs per consumer name. */
  byConsumer: Record<string, number>;
}

/**
 * Counts published / processed / lost / duplicated for ticks `0 .. published-1` (or for the ticks
 * in the set `published`), as handled by `group`, and prints one line
 * `fault <name>: published=… processed=… lost=… duplicated=… …` (the README quotes these).
 */
export async function tally(
  redis: Redis,
  namespace: string,
  name: string,
  published: number | ReadonlySet<number>,
  notes: Record<string, string | number> = {},
  group = 'fault',
): Promise<Tally> {
  const keys = faultKeys(namespace, group);
  const [deliveries, effects, byConsumer, modes] = await Promise.all([
    redis.hgetall(keys.deliveries),
    redis.hgetall(keys.effects),
    redis.hgetall(keys.byConsumer),
    redis.hgetall(keys.modes),
  ]);
  const isPublished = (field: string): boolean =>
    typeof published === 'number'
      ? Number.isInteger(Number(field)) && Number(field) >= 0 && Number(field) < published
      : published.has(Number(field));
  const publishedCount = typeof published === 'number' ? published : published.size;
  let processed = 0;
  let duplicated = 0;
  let effectsAppliedTwice = 0;
  let unexpected = 0;
  for (const [n, count] of Object.entries(effects)) {
    if (!isPublished(n)) continue;
    if (Number(count) >= 1) processed++;
    effectsAppliedTwice += Math.max(0, Number(count) - 1);
  }
  for (const [n, count] of Object.entries(deliveries)) {
    if (!isPublished(n)) unexpected++;
    else duplicated += Math.max(0, Number(count) - 1);
  }
  const result: Tally = {
    published: publishedCount,
    processed,
    lost: publishedCount - processed,
    duplicated,
    effectsAppliedTwice,
    unexpected,
    viaCommit: Number(modes.commit ?? 0) > 0 && Number(modes.plain ?? 0) === 0,
    byConsumer: Object.fromEntries(Object.entries(byConsumer).map(([k, v]) => [k, Number(v)])),
  };
  const extra = Object.entries(notes)
    .map(([k, v]) => ` ${k}=${v}`)
    .join('');
  process.stdout.write(
    `fault ${name}: published=${result.published} processed=${result.processed} lost=${result.lost} duplicated=${result.duplicated} ` +
      `effects-twice=${result.effectsAppliedTwice} via-commit=${result.viaCommit ? 'yes' : 'no'}${extra}\n`,
  );
  return result;
}

/** Ticks whose handler ran at least once (cheap: one HLEN), to poll progress. */
export async function deliveredCount(redis: Redis, namespace: string, group = 'fault'): Promise<number> {
  return redis.hlen(faultKeys(namespace, group).deliveries);
}

/** Ticks whose effect was applied at least once (cheap: one HLEN). */
export async function effectCount(redis: Redis, namespace: string, group = 'fault'): Promise<number> {
  return redis.hlen(faultKeys(namespace, group).effects);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Publishes ticks `from .. from+count-1` (publishMany batches of 1000) from this process; fails if any batch fails. */
export async function publishTicks(url: string, namespace: string, count: number, from = 0): Promise<void> {
  const publisher = await FaultPublisher.open(url, namespace);
  try {
    const failed = (await publisher.publishTicks(from, count)).filter((o) => !o.ok);
    if (failed.length > 0)
      throw new Error(`publishing ticks failed: ${failed.map((o) => `${o.from}-${o.to}: ${o.error}`).join('; ')}`);
  } finally {
    await publisher.close();
  }
}

/** Waits until every tick `0 .. count-1` has its effect and the group has nothing pending. */
export async function waitDrained(
  redis: Redis,
  namespace: string,
  count: number,
  timeoutMs = 30_000,
  group = 'fault',
): Promise<void> {
  await waitFor(
    `${count} ticks processed and nothing pending in group ${group}`,
    async () =>
      (await effectCount(redis, namespace, group)) >= count && (await pendingCount(redis, namespace, group)) === 0,
    timeoutMs,
  );
}
