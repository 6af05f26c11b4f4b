import type Redis from 'ioredis';
import { performance } from 'node:perf_hooks';

export const now = (): number => performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return Math.floor(value);
}

/** events/s, rounded. */
export function rate(count: number, ms: number): number {
  return Math.round((count * 1000) / ms);
}

/** Runs `task(i)` for i in [0, n) with at most `inFlight` at once. */
export async function pool(n: number, inFlight: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker));
}

/** Polls until `check` is true; throws with `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 2,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Entries pending (delivered, not acked) in a group. */
export async function pendingCount(redis: Redis, key: string, group: string): Promise<number> {
  const summary = (await redis.xpending(key, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

export interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Percentiles of latencies in ms (nearest-rank). */
export function latencyStats(samples: Float64Array | number[]): LatencyStats {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

export const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/** A fixed-width text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n)
    ? '-'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Things to tear down however the run ends (redis-server, children, apps, clients). */
const cleanups: Array<() => Promise<unknown> | unknown> = [];

export function onCleanup(fn: () => Promise<unknown> | unknown): () => void {
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

export async function cleanupAll(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch {
      // best effort
    }
  }
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export type LibModule = typeof import('./lib-app');

/** Loads the library side lazily; the error says why it is not runnable (e.g. a module still missing). */
export function loadLib(): LibModule | Error {
  try {
    // NOTE: a lazy require on purpose: the raw side must run even when the library does not load.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./lib-app') as LibModule;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The fastest of repeated runs, with every run's events/s attached. */
export function bestOf<T extends { perSec: number }>(runs: T[]): T & { runs: number[] } {
  if (!runs.length) throw new Error('no runs');
  const best = runs.reduce((a, b) => (b.perSec > a.perSec ? b : a));
  return { ...best, runs: runs.map((r) => r.perSec) };
}

/** Extra consumer tuning for every library consumer, from BENCH_LIB_CONSUMER (JSON), e.g. '{"dedupe":{"enabled":false}}'. */
export function extraTuning(): Record<string, unknown> {
  return jsonObjectFromEnv('BENCH_LIB_CONSUMER');
}

/** Extra EventBusModule.forRoot options for every library app, from BENCH_LIB_ROOT (JSON), e.g. '{"metrics":false,"tracing":false}'. */
export function extraRootOptions(): Record<string, unknown> {
  return jsonObjectFromEnv('BENCH_LIB_ROOT');
}

function jsonObjectFromEnv(name: string): Record<string, unknown> {
  const raw = process.env[name];
  if (!raw) return {};
  const value = JSON.parse(raw) as unknown;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${name} must be a JSON object`);
  return value as Record<string, unknown>;
}
