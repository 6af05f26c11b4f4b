import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
  args?: string[];
  /** Reuse a port (to restart a killed server on the same address). */
  port?: number;
  /** Reuse a data directory (to restart with the same AOF). */
  dir?: string;
}

/** A throwaway `redis-server` from PATH, on its own port and data directory. */
export class RedisServer {
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const which = spawnSync('redis-server', ['--version']);
    if (which.error) {
      throw new Error('redis-server is not on PATH: install it (apt-get install redis-server) to run the tests');
    }
    const port = options.port ?? (await freePort());
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'eb-redis-'));
    const server = new RedisServer(port, dir, options.args ?? []);
    await server.boot();
    return server;
  }

  /** Starts the process again on the same port and directory (after kill or stop). */
  async boot(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        ...this.args,
      ],
      { stdio: 'ignore' },
    );
    await waitForPing(this.url, 10_000);
  }

  /** Whether the process is running (started and not killed or stopped). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL, no chance to flush: what a crash looks like. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
    this.child = undefined;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (error) {
      lastError = error;
      client.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`redis-server at ${url} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/** A primary and one replica of it, linked; `pause()` stalls replication (SIGSTOP of the replica). */
export class ReplicatedRedis {
  private constructor(
    readonly primary: RedisServer,
    readonly replica: RedisServer,
    /** A client on the replica, to see what replication delivered. */
    readonly onReplica: Redis,
  ) {}

  static async start(linkTimeoutMs = 10_000): Promise<ReplicatedRedis> {
    const primary = await RedisServer.start();
    const replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const pair = new ReplicatedRedis(primary, replica, new Redis(replica.url));
    const deadline = Date.now() + linkTimeoutMs;
    while (!/master_link_status:up/.test(await pair.onReplica.info('replication'))) {
      if (Date.now() > deadline) {
        await pair.destroy();
        throw new Error(`replica of ${primary.url} not linked within ${linkTimeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return pair;
  }

  pause(): void {
    process.kill(this.replica.pid!, 'SIGSTOP');
  }

  resume(): void {
    if (this.replica.pid) process.kill(this.replica.pid, 'SIGCONT');
  }

  async destroy(): Promise<void> {
    this.resume();
    this.onReplica.disconnect();
    await this.replica.destroy();
    await this.primary.destroy();
  }
}
