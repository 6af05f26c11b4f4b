import { fork } from 'node:child_process';
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
  raw?: DrainResult;
  lib?: DrainResult;
  error?: string;
}

const ROOT = resolve(__dirname, '..');

function drainInChild(config: DrainConfig): Promise<DrainResult> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(join(__dirname, 'drain-child.ts'), [], {
      cwd: ROOT,
      execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
      env: { ...process.env, BENCH_DRAIN: JSON.stringify(config) },
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
    log(`backlog: raw drain in a child`);
    result.raw = await drainInChild({ ...base, mode: 'raw', group: 'raw' });
    if (!libAvailable) return { ...result, error: 'library not loadable' };
    try {
      log(`backlog: library drain in a child`);
      result.lib = await drainInChild({ ...base, mode: 'lib', group: 'lib' });
    } catch (error) {
      result.error = String(error);
    }
    return result;
  } finally {
    await admin.del(key).catch(() => undefined);
    admin.disconnect();
  }
}
