import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { testPlatformEnv } from './redis';
import { freePort } from './redis-server';

const ROOT = resolve(__dirname, '../..');
const running = new Set<ServiceProcess>();

/** One service's main.ts as its own OS process (ts-node, transpile only), listening on a free port. */
export class ServiceProcess {
  output = '';

  private constructor(
    readonly service: string,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    running.add(this);
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    child.once('exit', () => running.delete(this));
  }

  /** Starts `apps/<service>/src/main.ts` on the run's Redis (testPlatformEnv, under `env`) and waits until it answers HTTP. */
  static async start(service: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ServiceProcess> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', `apps/${service}/src/main.ts`],
      {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn', ...testPlatformEnv(), ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const proc = new ServiceProcess(service, `http://127.0.0.1:${port}`, child);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode}:\n${proc.output}`);
      try {
        const res = await fetch(`${proc.url}/docs-json`);
        if (res.ok) return proc;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await proc.stop();
    throw new Error(`${service} did not answer within ${timeoutMs} ms:\n${proc.output}`);
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  static async stopAll(): Promise<void> {
    await Promise.all([...running].map((p) => p.stop()));
  }
}
