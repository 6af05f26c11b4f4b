/** Runs the CLI as a real child process, exactly as `npm run cli --` does. */
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../../..');
const ARGS = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/cli/src/main.ts'];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;

  constructor(args: string[], env: Record<string, string | undefined>, input?: string) {
    const base = { ...process.env };
    delete base.PLATFORM_URL;
    delete base.API_KEY;
    this.child = spawn(process.execPath, [...ARGS, ...args], {
      cwd: REPO_ROOT,
      env: { ...base, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    if (input !== undefined) this.child.stdin!.end(input);
    else this.child.stdin!.end();
    this.done = new Promise((resolveDone) => {
      this.child.on('close', (code, signal) => resolveDone({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  /** Resolves once stdout (or stderr) matches; fails with what was printed after `timeoutMs`. */
  async waitFor(pattern: RegExp, on: 'stdout' | 'stderr' = 'stdout', timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this[on])) {
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `no ${pattern} on ${on} (exit ${this.child.exitCode})\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export function startCli(args: string[], env: Record<string, string | undefined> = {}, input?: string): CliProcess {
  return new CliProcess(args, env, input);
}

export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
): Promise<CliResult> {
  return startCli(args, env, input).done;
}
