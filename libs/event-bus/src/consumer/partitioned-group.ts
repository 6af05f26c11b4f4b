import { Logger } from '@nestjs/common';
import type { EventBusCore, ResolvedTuning } from '../event-bus.core';
import { settlesWithin } from '../utils/settles-within';
import type { LeaseFence } from '../dead-letter/dead-letter.writer';
import { withConsumerScripts } from './consumer-scripts';
import { ConsumerStats, GroupReader, newStats, PartitionScope, ReadSource } from './group-reader';

/** What runs a group in one process: one GroupReader, or a PartitionedGroup of them. */
export interface GroupRunner {
  readonly group: string;
  readonly stats: ConsumerStats;
  /** The process's member (consumer) name. */
  readonly consumerName: string;
  readonly isRunning: boolean;
  /** Entries read and not yet settled. */
  readonly inFlight: number;
  isAlive(maxSilenceMs?: number): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A partition this instance holds the lease of, and its reader. */
interface Owned {
  k: number;
  epoch: number;
  fence?: LeaseFence;
  /** performance.now() when the last successful grant or renewal was sent. */
  renewedAt: number;
  reader: GroupReader<unknown, ReadSource<unknown>>;
  /** Set while the partition is being handed off (stop reading, drain, acknowledge, release). */
  revoking?: Promise<void>;
  /** A renewal of its lease is out. */
  renewing?: boolean;
}

/** The reader of one partition, given its scope. */
export type PartitionReaderFactory = (scope: PartitionScope) => GroupReader<unknown, ReadSource<unknown>>;

/**
 * A group of a partitioned namespace in one process: the instances of the group share the
 * partitions, and at most one owns a (group, partition) at a time.
 *
 * Every `heartbeatMs` the instance records its heartbeat in the group's membership (at the Redis
 * server's clock) and gets the live members back; every member computes the same target
 * assignment from that list ({@link assignPartitions}); it renews the leases it holds, hands off
 * the partitions it should no longer own (stop reading, finish what is in flight, acknowledge,
 * then release the lease), and acquires the ones it should own that are free. It never takes a
 * partition another instance holds: that one releases it after draining, or its lease expires.
 *
 * Each owned partition has its own reader (consumer `p<k>`), so the pending list belongs to the
 * partition: a new owner reads it back from id 0 first, in order, then new entries. Each grant
 * has a new epoch; acknowledgements and dead letters run only while the lease still holds that
 * epoch (fencing). An owner that finds its lease past its local deadline (`leaseMs` minus a
 * safety margin after the last renewal it sent, e.g. after a long pause) starts no new work there
 * and gives the partition up; the next grant reads what it left back, in order.
 */
export class PartitionedGroup implements GroupRunner {
  private readonly logger: Logger;
  readonly stats = newStats();
  private readonly owned = new Map<number, Owned>();
  private timer?: NodeJS.Timeout;
  private renewTimer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private running = false;
  private stopped?: Promise<void>;
  private lastTickAt = 0;
  /** Heartbeats failed in a row. */
  private failing = 0;
  private readonly timing: EventBusCore['partitioning'];
  /** How long before the lease's expiry (after the last renewal sent) no new work starts. */
  private readonly safetyMs: number;

  constructor(
    private readonly core: EventBusCore,
    readonly group: string,
    private readonly tuning: ResolvedTuning,
    private readonly readerFor: PartitionReaderFactory,
  ) {
    this.logger = new Logger(`PartitionedGroup ${group}`);
    this.timing = core.partitioning;
    this.safetyMs = Math.min(2_000, Math.floor(this.timing.leaseMs / 4));
  }

  get consumerName(): string {
    return this.core.consumerName;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get inFlight(): number {
    let held = 0;
    for (const o of this.owned.values()) held += o.reader.inFlight;
    return held;
  }

  /** The partitions this instance owns now, with their epochs. */
  get partitions(): ReadonlyMap<number, number> {
    return new Map([...this.owned.values()].map((o) => [o.k, o.epoch]));
  }

  /** Alive: heartbeats keep coming, and every owned partition's read loop is alive. */
  isAlive(maxSilenceMs?: number): boolean {
    if (!this.running) return false;
    if (Date.now() - this.lastTickAt > this.timing.heartbeatMs * 3 + 5_000) return false;
    for (const o of this.owned.values())
      if (!o.revoking && o.reader.isRunning && !o.reader.isAlive(maxSilenceMs)) return false;
    return true;
  }

  /** Joins the group and takes the partitions it should own that are free; resolves once those read. */
  async start(): Promise<void> {
    this.running = true;
    this.lastTickAt = Date.now();
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.timing.heartbeatMs).unref();
    // NOTE: renewals on a timer of their own: a slow acquire (a reader connecting) must not hold
    // back the renewal of the partitions already owned.
    this.renewTimer = setInterval(() => this.renewOnce(), this.timing.heartbeatMs).unref();
  }

  /** Hands off every partition (drain, acknowledge, release) and leaves the group. */
  stop(): Promise<void> {
    if (!this.running && !this.stopped) return Promise.resolve();
    return (this.stopped ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    clearInterval(this.renewTimer);
    await this.ticking;
    // NOTE: leaving first: the others see this member gone at their next heartbeat and take the
    // partitions as soon as they are released.
    await withConsumerScripts(this.core.redis)
      .groupHeartbeat(this.core.keys.members(this.group), this.core.consumerName, this.timing.sessionTimeoutMs, '1')
      .catch(() => undefined);
    // NOTE: leases keep being renewed while the partitions drain.
    const renewing = setInterval(() => this.renewOnce(), this.timing.heartbeatMs).unref();
    try {
      await Promise.all([...this.owned.values()].map((o) => this.revoke(o)));
    } finally {
      clearInterval(renewing);
    }
  }

  private tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.rebalance()
      .then(() => {
        if (this.failing > 0) this.logger.log(`rebalancing works again after ${this.failing} failed heartbeat(s)`);
        this.failing = 0;
      })
      .catch((error: unknown) => {
        // NOTE: one warning per failure streak (Redis away fails every heartbeat).
        if (this.failing++ === 0) this.logger.warn(`rebalance failed, retrying at every heartbeat: ${String(error)}`);
      })
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async rebalance(): Promise<void> {
    const scripts = withConsumerScripts(this.core.redis);
    const members = await scripts.groupHeartbeat(
      this.core.keys.members(this.group),
      this.core.consumerName,
      this.timing.sessionTimeoutMs,
      '0',
    );
    this.lastTickAt = Date.now();
    if (!this.running) return;
    const mine = new Set(assignPartitions(members, this.core.keys.partitions).get(this.core.consumerName) ?? []);
    for (const o of this.owned.values()) if (!mine.has(o.k) && !o.revoking) void this.revoke(o);
    const wanted = [...mine].filter((k) => !this.owned.has(k));
    await Promise.all(wanted.map((k) => this.acquire(k)));
  }

  /**
   * Renews every lease held, each on its own: a renewal still out (its master failing over) does
   * not hold back those of partitions on other masters. A lease found lost stops its partition at
   * once (its settles would be refused anyway).
   */
  private renewOnce(): void {
    const scripts = withConsumerScripts(this.core.redis);
    for (const o of this.owned.values()) {
      if (!o.fence || o.renewing) continue;
      const fence = o.fence;
      const sentAt = performance.now();
      o.renewing = true;
      scripts
        .leaseRenew(fence.lease, fence.token, this.timing.leaseMs)
        .then(
          (ok) => {
            if (ok === 1) o.renewedAt = sentAt;
            else this.lose(o, 'its lease was taken or expired');
          },
          (error: unknown) => this.logger.warn(`renewing the lease of partition ${o.k} failed: ${String(error)}`),
        )
        .finally(() => (o.renewing = false));
    }
  }

  private async acquire(k: number): Promise<void> {
    const keys = this.core.keys;
    const sentAt = performance.now();
    const epoch = await withConsumerScripts(this.core.redis).leaseAcquire(
      keys.lease(this.group, k),
      keys.epoch(this.group, k),
      this.core.consumerName,
      this.timing.leaseMs,
    );
    if (epoch <= 0 || !this.running) {
      if (epoch > 0)
        await withConsumerScripts(this.core.redis)
          .leaseRelease(keys.lease(this.group, k), `${this.core.consumerName}|${epoch}`)
          .catch(() => undefined);
      return;
    }
    const owned: Owned = {
      k,
      epoch,
      renewedAt: sentAt,
      fence: { lease: keys.lease(this.group, k), token: `${this.core.consumerName}|${epoch}` },
      reader: undefined!,
    };
    const scope: PartitionScope = {
      k,
      epoch,
      consumer: `p${k}`,
      stats: this.stats,
      fence: () => owned.fence,
      valid: () => {
        if (!owned.fence) return false;
        if (performance.now() < owned.renewedAt + this.timing.leaseMs - this.safetyMs) return true;
        // NOTE: past the local deadline the partition is given up for good, even if a late renewal
        // still finds the lease ours: entries skipped now must not be overtaken by later entries of
        // their subjects. They stay pending, and the next grant (a new epoch) reads them back first.
        this.lose(owned, 'it went past its local lease deadline without a renewal');
        return false;
      },
      fenced: (count) => {
        this.stats.fenced += count;
        this.lose(owned, count > 0 ? `${count} settle(s) were refused` : 'a read was refused');
      },
    };
    owned.reader = this.readerFor(scope);
    this.owned.set(k, owned);
    try {
      await owned.reader.start();
    } catch (error) {
      this.owned.delete(k);
      await withConsumerScripts(this.core.redis)
        .leaseRelease(owned.fence!.lease, owned.fence!.token)
        .catch(() => undefined);
      throw error;
    }
    this.logger.log(`owns partition ${k} (epoch ${epoch})`);
  }

  /** The lease is gone: stop the partition without waiting to settle (its settles would be refused). */
  private lose(o: Owned, why: string): void {
    if (!o.fence) return;
    o.fence = undefined;
    this.logger.warn(`lost partition ${o.k} (epoch ${o.epoch}): ${why}; its next owner handles what was pending`);
    void this.revoke(o);
  }

  /** Hands the partition off: stop reading, finish in-flight work, acknowledge it, release the lease. */
  private revoke(o: Owned): Promise<void> {
    o.revoking ??= (async () => {
      // NOTE: bounded: a partition whose stop never finishes (Redis unanswering) is dropped, so
      // it can be granted again (a new epoch fences whatever the old reader still settles).
      const bound = this.tuning.blockMs + 2 * this.tuning.shutdownTimeoutMs + 1_000;
      if (!(await settlesWithin(o.reader.stop(), bound))) {
        this.logger.error(`partition ${o.k} (epoch ${o.epoch}) did not stop within ${bound} ms; dropping it`);
        o.fence = undefined;
      }
      const fence = o.fence;
      // NOTE: work still running past the shutdown timeout keeps the lease until it expires, so
      // no other instance starts on those subjects meanwhile.
      if (fence && o.reader.inFlight === 0) {
        o.fence = undefined;
        await withConsumerScripts(this.core.redis)
          .leaseRelease(fence.lease, fence.token)
          .catch(() => undefined);
        this.logger.log(`released partition ${o.k} (epoch ${o.epoch})`);
      }
      if (this.owned.get(o.k) === o) this.owned.delete(o.k);
    })();
    return o.revoking;
  }
}

/**
 * The target owner of every partition: deterministic, so every member computes the same from
 * the same member list. Bounded-load rendezvous hashing: partition k goes to the member ranked
 * highest by `fnv1a(member#k)` that still has room (every member gets `floor(P / members)`, and
 * `P mod members` of them one more). A
 * member's rank for k never changes, so a join or a leave moves about P / members partitions.
 */
export function assignPartitions(members: readonly string[], partitions: number): Map<string, number[]> {
  const out = new Map<string, number[]>(members.map((m) => [m, []]));
  if (members.length === 0) return out;
  const sorted = [...members].sort();
  // NOTE: every member gets floor(P / M) partitions, and P mod M of them one more.
  const floor = Math.floor(partitions / sorted.length);
  let extra = partitions % sorted.length;
  for (let k = 0; k < partitions; k++) {
    const ranked = sorted
      .map((m) => ({ m, score: fnv1a(`${m}#${k}`) }))
      .sort((a, b) => b.score - a.score || (a.m < b.m ? -1 : 1));
    const owner = ranked.find((r) => out.get(r.m)!.length < floor || (extra > 0 && out.get(r.m)!.length === floor))!;
    const load = out.get(owner.m)!;
    if (load.length === floor) extra--;
    load.push(k);
  }
  return out;
}

/** FNV-1a, 32 bits, unsigned. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
