import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './support/redis-server';

const ROOT = resolve(__dirname, '..');
/** start.js rebuilds when a source is newer than dist/ (30-60 s on 2 cores, more on a busy machine). */
const BOOT_TIMEOUT_MS = 240_000;

/** `npm start`'s first step: find Redis, or start one, or say how to get one. */
describe('scripts/start.js', () => {
  it('exits 1 with instructions when nothing answers at REDIS_URL and redis-server is not installed', async () => {
    // Tried: a free local port and a PATH that holds node but no redis-server.
    const bin = mkdtempSync(join(tmpdir(), 'no-redis-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    try {
      const port = await freePort();
      const run = spawnSync(process.execPath, ['scripts/start.js'], {
        env: { PATH: bin, HOME: process.env.HOME ?? '/root', REDIS_URL: `redis://127.0.0.1:${port}` },
        encoding: 'utf8',
        timeout: 30_000,
      });
      const output = run.stdout + run.stderr;
      expect(run.status).toBe(1);
      expect(output).toContain(`redis://127.0.0.1:${port}`);
      expect(output).toMatch(/docker compose up -d redis/);
      expect(output).toMatch(/apt-get install redis-server/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  /** start.js with a redis-server of its own (nothing answers at REDIS_URL) and the built app. */
  describe('with the redis-server and the app it starts', () => {
    const runs: StartScript[] = [];

    beforeAll(() => {
      // Built once here, so that start.js normally finds dist/ fresh (it still rebuilds when a
      // source changed meanwhile: BOOT_TIMEOUT_MS allows for that).
      const build = spawnSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', 'api'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 280_000,
      });
      if (build.status !== 0) throw new Error(`nest build api failed:\n${build.stdout}${build.stderr}`);
    }, 300_000);

    afterEach(() => {
      for (const run of runs.splice(0)) run.killEverything();
    });

    it(
      'stops the app, then its redis-server, when start.js and its process group are killed with SIGKILL',
      async () => {
        // Tried: start.js in a process group of its own, as a terminal's job; REDIS_URL on a free port
        // so that it starts its own redis-server; once the app answered HTTP, SIGKILL of that whole
        // group (start.js, and a build if one ran). The app, the redis-server and its watchdog run in
        // groups of their own and were not signalled by us.
        const run = await StartScript.start();
        runs.push(run);
        const { app, redis, watchdog } = run.children();

        const killedAt = Date.now();
        process.kill(-run.pid, 'SIGKILL');
        const goneAfter = await whenGone([app, redis, watchdog], 10_000, killedAt);
        const ms = { app: goneAfter.get(app), redis: goneAfter.get(redis), watchdog: goneAfter.get(watchdog) };

        await run.explainFailure(
          async () => {
            expect(ms.app).toBeDefined();
            expect(ms.redis).toBeDefined();
            expect(ms.watchdog).toBeDefined();
            // The app's graceful shutdown still needs Redis: the redis-server goes last.
            expect(ms.app!).toBeLessThanOrEqual(ms.redis!);
            await run.closed; // all of the output read
            expect(run.output).toContain(`[start] start.js is gone: stopping the app (pid ${app.pid})`);
            expect(run.output).toContain(`[start] start.js is gone: stopping its redis-server (pid ${redis.pid})`);
          },
          `gone after (ms): ${JSON.stringify(ms)}`,
        );
      },
      BOOT_TIMEOUT_MS + 60_000,
    );

    it(
      'stops the app, then its redis-server, once, on Ctrl-C (SIGINT, forwarded again by npm), and exits 130',
      async () => {
        // Tried: once the app answered HTTP, SIGINT to start.js and the same SIGINT again 50 ms later
        // (what `npm start` does: the terminal's Ctrl-C reaches npm and start.js, npm forwards it).
        const run = await StartScript.start();
        runs.push(run);
        const { app, redis, watchdog } = run.children();

        process.kill(run.pid, 'SIGINT');
        await new Promise((r) => setTimeout(r, 50));
        process.kill(run.pid, 'SIGINT');
        const exit = await run.exited;
        // start.js exits only once the app and the redis-server it started are gone.
        const leftAtExit = [app, redis].filter(running);

        await run.explainFailure(async () => {
          expect(exit).toEqual({ code: 130, signal: null });
          expect(leftAtExit).toEqual([]);
          await whenGone([watchdog], 2_000);
          expect(running(watchdog)).toBe(false);
          await run.closed; // all of the output read
          expect(count(run.output, '[start] SIGINT: stopping the app')).toBe(1);
          expect(count(run.output, `[start] Stopping the redis-server started for this run (pid ${redis.pid})`)).toBe(
            1,
          );
          expect(run.output).not.toContain('start.js is gone');
          expect(run.output).not.toMatch(/exited unexpectedly|did not stop/);
        });
      },
      BOOT_TIMEOUT_MS + 60_000,
    );
  });
});

/** A process as /proc shows it; `start` (its start time) tells it from a later one with the same pid. */
interface Proc {
  pid: number;
  start: string;
  cmdline: string;
}

/** `node scripts/start.js` in a process group of its own, with REDIS_URL and PORT on free ports. */
class StartScript {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Once its stdout and stderr are closed: by start.js and by every process that inherited them. */
  readonly closed: Promise<void>;
  private readonly seen: Proc[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly redisPort: number,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
  }

  /** Starts it and waits until the app answers HTTP. */
  static async start(): Promise<StartScript> {
    const [redisPort, httpPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['scripts/start.js'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        PORT: String(httpPort),
        LOG_LEVEL: 'warn',
        EVENT_BUS_NAMESPACE: `start-script-${process.pid}`,
        API_KEYS: 'operator:start-script-e2e-key-0123456789',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (!child.pid) throw new Error('could not start scripts/start.js');
    const run = new StartScript(child, child.pid, redisPort);
    try {
      await run.waitForHttp(`http://127.0.0.1:${httpPort}/docs-json`);
    } catch (error) {
      run.killEverything();
      throw error;
    }
    return run;
  }

  private async waitForHttp(url: string): Promise<void> {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (Date.now() < deadline) {
      this.remember();
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `start.js exited (${this.child.exitCode ?? this.child.signalCode}) before the app answered:\n${this.output}`,
        );
      }
      try {
        if ((await fetch(url)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the app did not answer at ${url} within ${BOOT_TIMEOUT_MS / 1000} s:\n${this.output}`);
  }

  /** start.js's children now: the app (with the lifeline preloaded), redis-server and its watchdog. */
  children(): { app: Proc; redis: Proc; watchdog: Proc } {
    this.remember();
    // Not those seen before: they include short-lived ones such as `redis-server --version`.
    const children = childrenOf(this.pid);
    const find = (what: string, test: (cmdline: string) => boolean): Proc => {
      const found = children.find((p) => test(p.cmdline));
      if (!found) throw new Error(`no ${what} among start.js's children: ${JSON.stringify(children, null, 1)}`);
      return found;
    };
    return {
      app: find('app', (c) => c.includes('scripts/lifeline.js') && c.includes('main.js')),
      // "redis-server --port <port> ...", or the title it sets: "redis-server 127.0.0.1:<port>".
      redis: find('redis-server', (c) => new RegExp(`^redis-server .*[ :]${this.redisPort}\\b`).test(c)),
      watchdog: find('watchdog', (c) => c.includes('scripts/redis-watchdog.js')),
    };
  }

  /** Runs the assertions; a failure's message ends with what start.js and its children printed. */
  async explainFailure(assertions: () => Promise<void>, context = ''): Promise<void> {
    try {
      await assertions();
    } catch (error) {
      if (error instanceof Error) error.message += `\n${context}\nOutput of start.js and its children:\n${this.output}`;
      throw error;
    }
  }

  /** Cleanup, whatever happened: SIGKILL of start.js's group and of every process it started. */
  killEverything(): void {
    for (const proc of this.remember()) {
      if (!running(proc)) continue;
      for (const target of [-proc.pid, proc.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // not a group leader, or gone
        }
      }
    }
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }

  /** Adds start.js's current children to those seen so far; returns them all. */
  private remember(): Proc[] {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      for (const proc of childrenOf(this.pid)) {
        const known = this.seen.find((p) => p.pid === proc.pid && p.start === proc.start);
        // The command line changes once: from start.js's own (forked) to the exec'd command's.
        if (known) known.cmdline = proc.cmdline;
        else this.seen.push(proc);
      }
    }
    return this.seen;
  }
}

function stat(pid: number): { state: string; ppid: number; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "<pid> (<comm>) <state> <ppid> <pgrp> ..." (proc(5)); starttime is field 22.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]), start: fields[19] };
  } catch {
    return undefined;
  }
}

function childrenOf(ppid: number): Proc[] {
  const children: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const s = stat(pid);
    if (s?.ppid !== ppid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      // gone meanwhile
    }
    children.push({ pid, start: s.start, cmdline });
  }
  return children;
}

/** Alive and not a zombie (an orphan stays one until init reaps it, which may take a while). */
function running(proc: Proc): boolean {
  const s = stat(proc.pid);
  return s !== undefined && s.start === proc.start && s.state !== 'Z' && s.state !== 'X';
}

/** Polls until every process is gone or `timeoutMs` passed; how long after `since` each went. */
async function whenGone(procs: Proc[], timeoutMs: number, since = Date.now()): Promise<Map<Proc, number>> {
  const gone = new Map<Proc, number>();
  const deadline = since + timeoutMs;
  for (;;) {
    for (const proc of procs) if (!gone.has(proc) && !running(proc)) gone.set(proc, Date.now() - since);
    if (gone.size === procs.length || Date.now() >= deadline) return gone;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}
