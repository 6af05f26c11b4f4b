import { PerformanceObserver } from 'node:perf_hooks';
import Redis from 'ioredis';
import { libConsume, prefill, redisCpuUs } from './consume';
import { streamKey } from './events';
import { LibModule, log } from './util';

/**
 * Phase: what the dedupe guard costs on the happy path. Many short pairs of library consumers
 * (validate=false) over one prefilled stream, guard on and off, seconds apart and in alternating
 * order; the verdict is on the median of the per-pair gaps, shown with its interquartile range.
 *
 * NOTE: five pairs (what the consume phase has) left the median a few points either way on a
 * shared 2-core VM whose speed swings by 10-30% between runs; this phase trades size per run for
 * pairs.
 */

export interface GuardPair {
  on: number;
  off: number;
  /** 1 - on / off */
  gap: number;
  /** redis-server CPU time (user + sys, INFO cpu) per event, microseconds. */
  redisUs?: { on: number; off: number };
  /** This process's garbage-collection pauses per event, microseconds. */
  gcUs?: { on: number; off: number };
}

export interface GuardPhase {
  events: number;
  concurrency: number;
  pairs: GuardPair[];
  error?: string;
}

export async function benchGuard(
  url: string,
  n: number,
  pairs: number,
  concurrency: number,
  lib: LibModule | Error,
): Promise<GuardPhase> {
  const result: GuardPhase = { events: n, concurrency, pairs: [] };
  if (lib instanceof Error) return { ...result, error: String(lib) };
  const admin = new Redis(url);
  // NOTE: where the guard's cost goes, per pair: Redis's CPU (the claims) and Node's GC pauses
  // (a claimed batch waits for its round trip, so more of what was read is alive at a scavenge).
  const gc = observeGc();
  const ns = 'guard';
  const warmNs = 'guard-warm';
  try {
    log(`guard: prefill ${n} + warm-up`);
    await prefill(admin, streamKey(ns), n, 'g');
    await prefill(admin, streamKey(warmNs), 5000, 'gw');
    for (const dedupe of [true, false]) {
      await libConsume(lib, admin, {
        url,
        namespace: warmNs,
        group: `warm-${dedupe}`,
        n: 5000,
        concurrency,
        validate: false,
        dedupe,
      });
    }
    await admin.del(streamKey(warmNs));
    for (let p = 1; p <= pairs; p++) {
      const onFirst = p % 2 === 1;
      const rate: Partial<Record<'on' | 'off', number>> = {};
      const redisUs: Partial<Record<'on' | 'off', number>> = {};
      const gcUs: Partial<Record<'on' | 'off', number>> = {};
      for (const dedupe of onFirst ? [true, false] : [false, true]) {
        const side = dedupe ? 'on' : 'off';
        const redis0 = await redisCpuUs(admin);
        const gc0 = gc.ms;
        const run = await libConsume(lib, admin, {
          url,
          namespace: ns,
          group: `${side}-${p}`,
          n,
          concurrency,
          validate: false,
          dedupe,
        });
        rate[side] = run.perSec;
        redisUs[side] = ((await redisCpuUs(admin)) - redis0) / n;
        gcUs[side] = ((gc.ms - gc0) * 1e3) / n;
        // NOTE: each guarded run leaves a bucket of n markers; dropping it keeps Redis the same size for every pair.
        if (dedupe) await dropBuckets(admin, ns);
      }
      const pair: GuardPair = {
        on: rate.on!,
        off: rate.off!,
        gap: 1 - rate.on! / rate.off!,
        redisUs: { on: redisUs.on!, off: redisUs.off! },
        gcUs: { on: gcUs.on!, off: gcUs.off! },
      };
      result.pairs.push(pair);
      log(
        `guard: pair ${p}/${pairs}: on ${Math.round(pair.on)} ev/s, off ${Math.round(pair.off)} ev/s, gap ${(pair.gap * 100).toFixed(1)} %; redis ${redisUs.on!.toFixed(1)} / ${redisUs.off!.toFixed(1)} us/ev, gc ${gcUs.on!.toFixed(1)} / ${gcUs.off!.toFixed(1)} us/ev`,
      );
    }
    return result;
  } catch (error) {
    return { ...result, error: String(error) };
  } finally {
    gc.observer.disconnect();
    await admin.del(streamKey(ns), streamKey(warmNs)).catch(() => undefined);
    admin.disconnect();
  }
}

/** Sums this process's garbage-collection pauses while it observes. */
function observeGc(): { ms: number; observer: PerformanceObserver } {
  const gc = {
    ms: 0,
    observer: new PerformanceObserver((list) => list.getEntries().forEach((entry) => (gc.ms += entry.duration))),
  };
  gc.observer.observe({ entryTypes: ['gc'] });
  return gc;
}

async function dropBuckets(admin: Redis, ns: string): Promise<void> {
  const keys = await admin.keys(`${ns}:*:seen:*`);
  if (keys.length > 0) await admin.del(...keys);
}

/** The value at quantile q (0..1) of the sorted values, interpolated. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}
