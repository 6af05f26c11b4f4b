import { execFileSync, fork } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { prefill } from './consume';
import type { DrainConfig, DrainResult } from './drain-child';
import { streamKey } from './events';
import { log, mb, now, onCleanup, rate } from './util';

/** Phase 4: RSS of a consumer draining a large backlog, each side in its own child process. */

export interface BacklogPhase {
  backlog: number;
  prefillPerSec: number;
  redisUsedMemoryMB: number;
  concurrency: number;
  validate: boolean;
  /** true: the children ran compiled JavaScript; false: through ts-node (compiling failed). */
  compiled?: boolean;
  raw?: DrainResult;
  lib?: DrainResult;
  error?: string;
}

const ROOT = resolve(__dirname, '..');
/** Where the drain children's JavaScript is compiled to (inside the repo, so node_modules resolve). */
const COMPILED = join(ROOT, 'dist', 'bench-js');

/** How the drain children run: compiled JavaScript (what a service runs), or through ts-node when compiling failed. */
interface ChildRuntime {
  script: string;
  execArgv: string[];
  env: Record<string, string>;
  compiled: boolean;
}

/**
 * Compiles the project with tsc into dist/bench-js, so each drain child's RSS is that of the code a
 * service runs, not of ts-node and the TypeScript compiler holding every transpiled file of the
 * library and its Nest app. The path aliases resolve through a tsconfig written next to it.
 */
function compileChildren(): ChildRuntime {
  const fallback: ChildRuntime = {
    script: join(__dirname, 'drain-child.ts'),
    execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    env: {},
    compiled: false,
  };
  try {
    rmSync(COMPILED, { recursive: true, force: true });
    execFileSync(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc'),
        '-p',
        join(ROOT, 'tsconfig.json'),
        '--outDir',
        COMPILED,
        '--sourceMap',
        'false',
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const { compilerOptions } = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { paths: Record<string, string[]> };
    };
    const project = join(COMPILED, 'tsconfig.json');
    writeFileSync(project, JSON.stringify({ compilerOptions: { baseUrl: '.', paths: compilerOptions.paths } }));
    return {
      script: join(COMPILED, 'bench', 'drain-child.js'),
      execArgv: ['-r', 'tsconfig-paths/register'],
      env: { TS_NODE_PROJECT: project },
      compiled: true,
    };
  } catch (error) {
    log(`backlog: compiling the drain children failed, running them through ts-node: ${String(error).slice(0, 300)}`);
    return fallback;
  }
}

function drainInChild(config: DrainConfig, runtime: ChildRuntime): Promise<DrainResult> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(runtime.script, [], {
      cwd: ROOT,
      execArgv: runtime.execArgv,
      env: { ...process.env, ...runtime.env, BENCH_DRAIN: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const removeCleanup = onCleanup(kill);
    const timeoutMs = Math.max(120_000, config.n);
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`drain child (${config.mode}) timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    let result: DrainResult | { error: string } | undefined;
    child.on('message', (message) => (result = message as DrainResult | { error: string }));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      removeCleanup();
      if (result && 'mode' in result) resolvePromise(result);
      else reject(new Error(`drain child (${config.mode}) exited ${code ?? signal}: ${result?.error ?? 'no result'}`));
    });
  });
}

export async function benchBacklog(
  url: string,
  n: number,
  concurrency: number,
  validate: boolean,
  libAvailable: boolean,
): Promise<BacklogPhase> {
  const admin = new Redis(url);
  const namespace = 'drain';
  const key = streamKey(namespace);
  try {
    log(`backlog: prefill ${n} events`);
    const t0 = now();
    await prefill(admin, key, n, 'd');
    const prefillMs = now() - t0;
    const info = await admin.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
    const result: BacklogPhase = {
      backlog: n,
      prefillPerSec: rate(n, prefillMs),
      redisUsedMemoryMB: mb(used),
      concurrency,
      validate,
    };
    const base = { url, namespace, key, n, concurrency, validate };
    log(`backlog: compiling the drain children`);
    const runtime = compileChildren();
    result.compiled = runtime.compiled;
    log(`backlog: raw drain in a child`);
    result.raw = await drainInChild({ ...base, mode: 'raw', group: 'raw' }, runtime);
    if (!libAvailable) return { ...result, error: 'library not loadable' };
    try {
      log(`backlog: library drain in a child`);
      result.lib = await drainInChild({ ...base, mode: 'lib', group: 'lib' }, runtime);
    } catch (error) {
      result.error = String(error);
    }
    return result;
  } finally {
    await admin.del(key).catch(() => undefined);
    admin.disconnect();
  }
}
