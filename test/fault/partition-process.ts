import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '../..');
const WORKER_FILES = ['test/fault/partition-worker.ts', 'test/fault/partition-events.ts'];

/** A transpiled copy of the event bus library and partition-worker.ts, and how to start the worker. */
export interface TranspiledWorker {
  dir: string;
  /** The worker's script, relative to `dir`. */
  script: string;
  remove(): void;
}

/**
 * Transpiles `libs/event-bus/src` (no specs) and the partition worker once, file by file (what
 * ts-node's transpile-only mode does at every start), into a temporary folder with a copy of
 * tsconfig.json and a `node_modules` link, so that each worker process boots without compiling
 * (as transpiled-app.ts does for the apps). Nothing is type checked.
 */
export function transpileWorker(): TranspiledWorker {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => readFileSync(path, 'utf8'));
  if (config.error)
    throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(config.error.messageText, '\n')}`);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    sourceMap: false,
    inlineSourceMap: false,
    declaration: false,
    noEmit: false,
  };
  const dir = mkdtempSync(join(tmpdir(), 'partition-worker-'));
  const emit = (path: string): void => {
    const { outputText } = ts.transpileModule(readFileSync(path, 'utf8'), { compilerOptions, fileName: path });
    const target = join(dir, relative(ROOT, path)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  };
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.spec.ts'))
        emit(path);
    }
  };
  walk(join(ROOT, 'libs/event-bus/src'));
  for (const file of WORKER_FILES) emit(join(ROOT, file));
  copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, script: 'test/fault/partition-worker.js', remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const alive = new Set<PartitionProcess>();

/** One partition-worker process; its output is kept for failure messages. */
export class PartitionProcess {
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

  /** Starts the worker with `env` on top of this process's environment; its stdin stays open (it exits when it closes). */
  static spawn(
    label: string,
    env: Record<string, string | number | undefined>,
    worker: TranspiledWorker,
  ): PartitionProcess {
    const vars: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) if (value !== undefined) vars[name] = String(value);
    const child = spawn(process.execPath, ['-r', 'tsconfig-paths/register', worker.script], {
      cwd: worker.dir,
      env: { ...process.env, ...vars, TS_NODE_PROJECT: join(worker.dir, 'tsconfig.json') },
      stdio: 'pipe',
    });
    return new PartitionProcess(label, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get isAlive(): boolean {
    return this.exit === undefined;
  }

  get output(): string {
    return `${this.stdout}${this.stderr}`;
  }

  /** Resolves once stdout has the line `line`; fails early if the process exits first. */
  async waitForLine(line: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stdout.split('\n').includes(line)) {
      if (!this.isAlive)
        throw new Error(
          `${this.label} exited (${JSON.stringify(this.exit)}) before printing "${line}":\n${this.output}`,
        );
      if (Date.now() > deadline)
        throw new Error(`${this.label} did not print "${line}" within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `signal` (SIGTERM, SIGSTOP, SIGCONT, SIGUSR2, ...) without waiting. */
  signal(signal: NodeJS.Signals): void {
    if (this.isAlive) this.child.kill(signal);
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<Exit> {
    if (this.isAlive) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
    }
    return this.exited;
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

/** SIGKILLs every partition worker still running (afterEach: a failed test leaves no process behind). */
export async function killAllPartitionProcesses(): Promise<void> {
  await Promise.all([...alive].map((p) => p.kill()));
}
