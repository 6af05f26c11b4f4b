import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster, ClusterNode, ClusterOptions } from 'ioredis';

export interface RedisClusterOptions {
  /** Number of masters; the 16384 slots are split evenly over them. Default 3. */
  masters?: number;
  /** Replicas per master (0 or more; needs `redis-cli` and at least 3 masters). Default 0. */
  replicas?: number;
  /** Extra `redis-server` arguments for every node, e.g. `['--appendonly', 'yes']`. */
  args?: string[];
  /** How long start may take before it gives up (and stops what it started). Default 30 s. */
  timeoutMs?: number;
}

export type RedisClusterRole = 'master' | 'replica';

/** One node of a {@link RedisCluster}, as of start (or the last {@link RedisCluster.refresh}). */
export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
  /** Its `CLUSTER MYID`. */
  readonly id: string;
  readonly role: RedisClusterRole;
  /** The process id while it runs (undefined once killed or stopped). */
  readonly pid: number | undefined;
  /** Its own data directory (holds `nodes.conf` and `redis.log`). */
  readonly dir: string;
}

const HOST = '127.0.0.1';
const SLOTS = 16384;
const BUS_OFFSET = 10000;
// Client ports whose bus port (p + 10000) is still below Linux's ephemeral range (32768+),
// so outgoing connections of this or other processes do not take either of them meanwhile.
const PORT_MIN = 12000;
const PORT_MAX = 22000;
const PORT_ATTEMPTS = 5;

interface NodeProcess {
  port: number;
  dir: string;
  id: string;
  role: RedisClusterRole;
  child?: ChildProcess;
  stderr?: string;
}

/**
 * A throwaway Redis Cluster of `redis-server`s from PATH (the counterpart of `RedisServer`):
 * every node on its own free port (its bus on port + 10000) and directory under one temp dir,
 * spawned in the foreground so its pid is known and only those pids are ever signalled.
 *
 * Masters only: slots are assigned with `CLUSTER ADDSLOTSRANGE` and the nodes joined with
 * `CLUSTER MEET`; with replicas, `redis-cli --cluster create --cluster-replicas N` does it.
 * `start` resolves once every node reports `cluster_state:ok` and every replica
 * `master_link_status:up`; if anything fails on the way, it stops every process it started.
 */
export class RedisCluster {
  private readonly clients = new Set<Cluster>();
  private readonly onExit = () => this.killAllSync();

  private constructor(
    readonly dir: string,
    private readonly procs: NodeProcess[],
    private readonly args: string[],
  ) {
    process.once('exit', this.onExit);
  }

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicas ?? 0;
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isInteger(masters) || masters < 1 || masters > SLOTS) {
      throw new Error(`masters must be an integer from 1 to ${SLOTS}, got ${masters}`);
    }
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new Error(`replicas must be a non-negative integer, got ${replicas}`);
    }
    if (replicas > 0 && masters < 3) {
      throw new Error(`redis-cli --cluster create needs at least 3 masters for replicas, got ${masters}`);
    }
    requireBinary('redis-server');
    if (replicas > 0) requireBinary('redis-cli');

    const deadline = Date.now() + timeoutMs;
    const cluster = new RedisCluster(mkdtempSync(join(tmpdir(), 'eb-redis-cluster-')), [], options.args ?? []);
    try {
      const total = masters * (1 + replicas);
      for (let i = 0; i < total; i++) await cluster.spawnNewNode(deadline);
      for (const proc of cluster.procs) proc.id = await cluster.command(proc.port, deadline, (r) => r.cluster('MYID'));
      if (replicas === 0) {
        await cluster.assignAndMeet(deadline);
      } else {
        await cluster.createWithRedisCli(replicas, deadline);
      }
      await cluster.waitUntilFormed(deadline);
      await cluster.refresh();
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** Every node (masters and replicas) with its port, role, id and pid. */
  get nodes(): RedisClusterNode[] {
    return this.procs.map((p) => ({
      host: HOST,
      port: p.port,
      id: p.id,
      role: p.role,
      pid: this.isRunning(p) ? p.child?.pid : undefined,
      dir: p.dir,
    }));
  }

  /** The masters, as of start or the last {@link refresh}. */
  get masters(): RedisClusterNode[] {
    return this.nodes.filter((n) => n.role === 'master');
  }

  /** Startup nodes for `new Cluster(seeds)`: every node. */
  get seeds(): ClusterNode[] {
    return this.procs.map((p) => ({ host: HOST, port: p.port }));
  }

  /** One `redis://127.0.0.1:<port>` per node. */
  get urls(): string[] {
    return this.procs.map((p) => `redis://${HOST}:${p.port}`);
  }

  /** The seed list as one string: `redis://127.0.0.1:p1,redis://127.0.0.1:p2,...`. */
  get url(): string {
    return this.urls.join(',');
  }

  /** The process ids of the nodes still running. */
  get pids(): number[] {
    return this.procs.filter((p) => this.isRunning(p)).map((p) => p.child!.pid!);
  }

  /** A new ioredis Cluster client on the seeds; `stop`/`destroy` disconnect it if the test did not. */
  client(options: ClusterOptions = {}): Cluster {
    const client = new Cluster(this.seeds, options);
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  /** A plain (non-cluster) client of one node, for CLUSTER/INFO/ROLE; the caller disconnects it. */
  nodeClient(port: number): Redis {
    this.proc(port);
    return new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  }

  /** Re-reads every running node's role (e.g. after a failover). */
  async refresh(): Promise<RedisClusterNode[]> {
    for (const proc of this.procs) {
      if (!this.isRunning(proc)) continue;
      const role = (await this.command(proc.port, Date.now() + 5_000, (r) => r.call('ROLE'))) as unknown[];
      proc.role = role[0] === 'master' ? 'master' : 'replica';
    }
    return this.nodes;
  }

  /** SIGKILL one node, no chance to flush: what a crash looks like. */
  async kill(port: number): Promise<void> {
    await signal(this.proc(port), 'SIGKILL');
  }

  /** Starts a killed or stopped node again on its port and directory (it keeps its nodes.conf, so it rejoins). */
  async restart(port: number, timeoutMs = 10_000): Promise<void> {
    const proc = this.proc(port);
    if (this.isRunning(proc)) throw new Error(`node ${port} is still running`);
    this.spawnNode(proc);
    await waitForPing(proc, Date.now() + timeoutMs);
  }

  /** Stops every node it started (SIGTERM, then SIGKILL after 5 s) and disconnects its clients. */
  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
    await Promise.all(this.procs.map((p) => signal(p, 'SIGTERM')));
  }

  /** {@link stop}, then removes the temp dir. Safe to call more than once. */
  async destroy(): Promise<void> {
    try {
      await this.stop();
    } finally {
      this.killAllSync();
      process.removeListener('exit', this.onExit);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private proc(port: number): NodeProcess {
    const proc = this.procs.find((p) => p.port === port);
    if (!proc)
      throw new Error(
        `no node of this cluster listens on ${port} (nodes: ${this.procs.map((p) => p.port).join(', ')})`,
      );
    return proc;
  }

  private isRunning(proc: NodeProcess): boolean {
    return proc.child !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
  }

  /** Last resort when the test process exits (or destroy's stop failed): SIGKILL what still runs. */
  private killAllSync(): void {
    for (const proc of this.procs) {
      if (this.isRunning(proc)) proc.child!.kill('SIGKILL');
    }
  }

  /** Picks a port pair, spawns a node there; tries other ports when it loses a race for one. */
  private async spawnNewNode(deadline: number): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      const port = await freePortPair(new Set(this.procs.map((p) => p.port)));
      const dir = join(this.dir, String(port));
      mkdirSync(dir, { recursive: true });
      const proc: NodeProcess = { port, dir, id: '', role: 'master' };
      this.procs.push(proc);
      this.spawnNode(proc);
      try {
        await waitForPing(proc, deadline);
        return;
      } catch (error) {
        lastError = error;
        await signal(proc, 'SIGKILL');
        this.procs.splice(this.procs.indexOf(proc), 1);
        if (Date.now() >= deadline) break;
      }
    }
    throw lastError;
  }

  private spawnNode(proc: NodeProcess): void {
    proc.child = spawn(
      'redis-server',
      [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(proc.dir, 'nodes.conf'),
        '--cluster-node-timeout',
        '1000',
        '--port',
        String(proc.port),
        '--bind',
        HOST,
        // Without it a lone node (masters: 1) never learns its own address and CLUSTER SLOTS
        // answers '' as its host, which ioredis 5 cannot follow.
        '--cluster-announce-ip',
        HOST,
        '--dir',
        proc.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--logfile',
        join(proc.dir, 'redis.log'),
        ...this.args,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr = '';
    // Config errors go to stderr before the log file is opened; keep the tail for the error message.
    proc.child.stderr?.on('data', (d: Buffer) => (proc.stderr = (proc.stderr + d.toString()).slice(-2000)));
    proc.child.on('error', () => undefined);
  }

  /** Masters only: even slot ranges with ADDSLOTSRANGE, then node 0 MEETs the others. */
  private async assignAndMeet(deadline: number): Promise<void> {
    const n = this.procs.length;
    for (let i = 0; i < n; i++) {
      const from = Math.floor((i * SLOTS) / n);
      const to = Math.floor(((i + 1) * SLOTS) / n) - 1;
      await this.command(this.procs[i].port, deadline, (r) =>
        r.call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to)),
      );
    }
    for (const other of this.procs.slice(1)) {
      await this.command(this.procs[0].port, deadline, (r) => r.cluster('MEET', HOST, other.port));
    }
  }

  /** With replicas: `redis-cli --cluster create ... --cluster-replicas N --cluster-yes`. */
  private async createWithRedisCli(replicas: number, deadline: number): Promise<void> {
    const args = [
      '--cluster',
      'create',
      ...this.procs.map((p) => `${HOST}:${p.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ];
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(
        () => {
          child.kill('SIGKILL');
          resolve('timeout');
        },
        Math.max(0, deadline - Date.now()),
      );
      child.once('error', (e) => {
        clearTimeout(timer);
        resolve(String(e));
      });
      child.once('exit', (c, s) => {
        clearTimeout(timer);
        resolve(c ?? String(s));
      });
    });
    if (code !== 0) throw new Error(`redis-cli --cluster create failed (${code}):\n${output}`);
  }

  /** Every node: cluster_state:ok, all slots ok, knows every node; every replica: link up. */
  private async waitUntilFormed(deadline: number): Promise<void> {
    const total = this.procs.length;
    for (const proc of this.procs) {
      await this.poll(proc, deadline, 'cluster_state:ok', async (r) => {
        const info = parseInfo(await r.cluster('INFO'));
        return (
          info.cluster_state === 'ok' &&
          info.cluster_slots_ok === String(SLOTS) &&
          info.cluster_known_nodes === String(total)
        );
      });
    }
    for (const proc of this.procs) {
      await this.poll(proc, deadline, 'master_link_status:up on replicas', async (r) => {
        const info = parseInfo(await r.info('replication'));
        return info.role === 'master' || info.master_link_status === 'up';
      });
    }
  }

  private async poll(
    proc: NodeProcess,
    deadline: number,
    what: string,
    check: (r: Redis) => Promise<boolean>,
  ): Promise<void> {
    const client = this.nodeClient(proc.port);
    client.on('error', () => undefined);
    try {
      await client.connect();
      while (!(await check(client))) {
        if (Date.now() >= deadline) throw new Error(`node ${proc.port} did not reach ${what} in time${logTail(proc)}`);
        await sleep(20);
      }
    } finally {
      client.disconnect();
    }
  }

  private async command<T>(port: number, deadline: number, run: (r: Redis) => Promise<T>): Promise<T> {
    const proc = this.proc(port);
    const client = this.nodeClient(port);
    client.on('error', () => undefined);
    try {
      await withDeadline(client.connect(), deadline, `connect to node ${port}`);
      return await withDeadline(run(client), deadline, `command on node ${port}`);
    } catch (error) {
      throw new Error(`node ${port}: ${String(error)}${logTail(proc)}`);
    } finally {
      client.disconnect();
    }
  }
}

function requireBinary(name: string): void {
  if (spawnSync(name, ['--version']).error) {
    throw new Error(`${name} is not on PATH: install it (apt-get install redis-server) to run the cluster tests`);
  }
}

async function signal(proc: NodeProcess, sig: NodeJS.Signals): Promise<void> {
  const child = proc.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(sig);
  });
}

async function waitForPing(proc: NodeProcess, deadline: number): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    const child = proc.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      await sleep(50); // let its last stderr arrive
      throw new Error(`redis-server on ${proc.port} exited (${child?.exitCode ?? child?.signalCode})${logTail(proc)}`);
    }
    const client = new Redis({
      host: HOST,
      port: proc.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      lastError = error;
      await sleep(20);
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`redis-server on ${proc.port} did not answer in time: ${String(lastError)}${logTail(proc)}`);
}

/** A random port in [PORT_MIN, PORT_MAX] that, with port + 10000, is free right now. */
async function freePortPair(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN + 1));
    if (taken.has(port) || taken.has(port + BUS_OFFSET) || taken.has(port - BUS_OFFSET)) continue;
    if ((await canListen(port)) && (await canListen(port + BUS_OFFSET))) return port;
  }
  throw new Error(`no free port pair (p, p + ${BUS_OFFSET}) found in ${PORT_MIN}-${PORT_MAX}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

function logTail(proc: NodeProcess): string {
  let out = proc.stderr?.trim() ? `\n--- stderr ---\n${proc.stderr.trim()}` : '';
  const file = join(proc.dir, 'redis.log');
  if (existsSync(file)) {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-5);
    out += `\n--- ${file} (last lines) ---\n${lines.join('\n')}`;
  }
  return out;
}

async function withDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
