import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { TranspiledApp } from './transpiled-app';

/** The repo root: the app runs from there so tsconfig.json and its path aliases apply. */
const ROOT = resolve(__dirname, '../..');
const API_MAIN = 'apps/api/src/main.ts';
/** Output kept per incarnation (the tail), for failure messages. */
const OUTPUT_TAIL = 64 * 1024;
/** Error and fatal log lines kept over every incarnation, for the report. */
const MAX_ERROR_LINES = 500;

const running = new Set<PlatformProcess>();
let exitHookInstalled = false;

/** SIGKILLs every process group still running, synchronously (process 'exit': no await there). */
function killAllSync(): void {
  for (const platform of running) platform.killGroupSync();
}

/** How {@link PlatformProcess.spawn} starts the app. */
export interface SpawnOptions {
  /** Collects the error and fatal log lines of every incarnation. */
  errorLines?: string[];
  /** Everything the process prints is written there too. */
  logFile?: string;
  /** Run this transpiled copy (boots in seconds); unset: `apps/api/src/main.ts` through ts-node (transpile only). */
  transpiled?: TranspiledApp;
}

/**
 * The all-in-one platform app (`apps/api/src/main.ts`, what `npm start` runs) as a child process
 * (through ts-node, transpile only, or a transpiled copy: see transpiled-app.ts), in a process
 * group of its own (`detached`), so that
 * {@link kill} SIGKILLs the whole group at once: no shutdown hook runs, nothing is flushed, as
 * when a machine or container dies. Listens on the port given in `env.PORT`.
 */
export class PlatformProcess {
  /** The tail of stdout + stderr. */
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether the test signalled it (kill or stop): any other exit is a crash. */
  signalled = false;
  private exit?: { code: number | null; signal: NodeJS.Signals | null };

  private constructor(
    readonly label: string,
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly errorLines: string[],
    private readonly log?: WriteStream,
  ) {
    running.add(this);
    let partial = '';
    const onData = (chunk: string): void => {
      this.log?.write(chunk);
      this.output = (this.output + chunk).slice(-OUTPUT_TAIL);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (this.errorLines.length < MAX_ERROR_LINES && /"level":"(error|fatal)"/.test(line))
          this.errorLines.push(`${label}: ${line}`);
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.stderr?.setEncoding('utf8').on('data', onData);
    this.exited = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        this.log?.end();
        resolveExit(this.exit);
      }),
    );
  }

  /**
   * Spawns the platform with `env` on top of this process's environment (PORT must be in it) and
   * returns at once; {@link waitReady} waits for it.
   */
  static spawn(label: string, env: Record<string, string>, options: SpawnOptions = {}): PlatformProcess {
    const { errorLines = [], logFile, transpiled } = options;
    if (!exitHookInstalled) {
      // NOTE: a safety net if jest exits (forceExit) before afterAll could stop the group.
      process.once('exit', killAllSync);
      exitHookInstalled = true;
    }
    const [cwd, args] = transpiled
      ? [transpiled.dir, ['-r', 'tsconfig-paths/register', transpiled.main('api')]]
      : [ROOT, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', API_MAIN]];
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env, TS_NODE_PROJECT: resolve(cwd, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new PlatformProcess(
      label,
      `http://127.0.0.1:${env.PORT}`,
      child,
      errorLines,
      logFile ? createWriteStream(logFile) : undefined,
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get isAlive(): boolean {
    return this.exit === undefined;
  }

  /** Resolves once `GET /health/ready` answers 200 (every consumer loop alive, Redis answering). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isAlive)
        throw new Error(`${this.label} exited (${JSON.stringify(this.exit)}) before it was ready:\n${this.output}`);
      try {
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.label} was not ready within ${timeoutMs} ms:\n${this.output}`);
  }

  /** SIGKILL to the whole process group; resolves once the app's process is gone. */
  async kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.killGroupSync();
    return this.exited;
  }

  /** SIGTERM to the group (graceful shutdown), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.isAlive) return;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.killGroupSync(), graceMs);
    await this.exited;
    clearTimeout(timer);
    // NOTE: anything the app spawned into its group dies with it.
    this.signalGroup('SIGKILL');
  }

  killGroupSync(): void {
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    this.signalled = true;
    try {
      // NOTE: a negative pid is the process group: detached made the child its leader.
      process.kill(-this.pid, signal);
    } catch {
      // the group is gone already
    }
  }

  /** SIGKILLs every platform process group still running (afterAll: a failed test leaves nothing behind). */
  static async killAll(): Promise<void> {
    await Promise.all([...running].map((p) => p.kill()));
  }
}
