import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { EventBusCore, ResolvedTuning } from '../event-bus.core';
import { settlesWithin } from '../utils/settles-within';
import { AckBatcher } from './ack-batcher';
import { claimIdle, removeDeadConsumers } from './claimer';
import { withConsumerScripts } from './consumer-scripts';
import type { Source } from './delivery';
import type { LeaseFence } from '../dead-letter/dead-letter.writer';

/** Zeroed counters. */
export function newStats(): ConsumerStats {
  return {
    delivered: 0,
    acked: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    duplicates: 0,
    claimed: 0,
    trimmedWhilePending: 0,
    fenced: 0,
  };
}

type StreamReply = Array<[key: string, entries: Array<[id: string, fields: string[] | null]>]>;

/** Counters of one consumer, for tests, health and metrics. */
export interface ConsumerStats {
  delivered: number;
  acked: number;
  failed: number;
  retried: number;
  deadLettered: number;
  duplicates: number;
  claimed: number;
  trimmedWhilePending: number;
  /** Acknowledgements and dead letters refused because the partition's lease had moved on (partitioned groups). */
  fenced: number;
}

/**
 * The partition a reader works on, in a partitioned group (see PartitionedGroup): it reads and
 * acknowledges as consumer `p<k>` under the lease of (group, k).
 */
export interface PartitionScope {
  /** The partition index. */
  k: number;
  /** The epoch of this instance's lease on (group, k). */
  epoch: number;
  /** The consumer name of the partition: `p<k>`, whoever owns it. */
  consumer: string;
  /** The lease held on (group, k), or undefined once it is lost. */
  fence(): LeaseFence | undefined;
  /** Whether the lease is still ours by the local deadline: new work on the partition may start. */
  valid(): boolean;
  /** The group's counters, shared by its partitions. */
  stats: ConsumerStats;
  /** Settles (acknowledgements, dead letters) refused because the lease was no longer ours. */
  fenced(count: number): void;
}

/** A key a group reads, and the entries of it this consumer holds (read and not yet settled), by entry id. */
export interface ReadSource<T> {
  key: string;
  held: Map<string, T>;
}

/**
 * The consumer loop of one group in one process, whatever is done with what it reads: a blocking
 * XREADGROUP over every key of the group (first this consumer's own pending entries, from id 0,
 * then new ones), at most two batches' worth held at once, leases on what it holds, claiming of
 * what dead consumers left behind, recreation of vanished groups, and shutdown (stop reading,
 * release the blocked read, drain, acknowledge).
 *
 * Subclasses say what an entry becomes (`prepare`, once per entry: the hot path), what is done
 * with a batch of them (`dispatch`), and how to wait for the work in flight (`drain`); they
 * `settle` each held item once it is acknowledged or given up.
 */
export abstract class GroupReader<T, S extends ReadSource<T>> {
  protected readonly logger = new Logger(this.constructor.name);
  readonly stats: ConsumerStats;
  /** The group's acknowledgements, one XACK per key and event-loop turn. */
  readonly acks: AckBatcher;
  protected readonly stopping = new AbortController();
  /** Every key the group reads. */
  protected abstract readonly sources: S[];
  /** Entries held: read and not yet settled. */
  protected held = 0;
  private heldWaiters: Array<() => void> = [];
  /** A non-blocking read is out (read ahead after a full batch, or the backlog). */
  protected prefetching = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private reader?: Redis;
  private readerId?: number;
  private running = false;
  private claiming = false;
  private loop?: Promise<void>;
  private stopped?: Promise<void>;
  /** When the read loop last came back from Redis (entries, timeout or error): a liveness signal. */
  private lastLoopAt = 0;

  constructor(
    protected readonly core: EventBusCore,
    readonly group: string,
    protected readonly tuning: ResolvedTuning,
    /** The partition this reader works on, in a partitioned group. */
    readonly scope?: PartitionScope,
  ) {
    this.stats = scope?.stats ?? newStats();
    this.acks = new AckBatcher(
      core.redis,
      group,
      (error, count) =>
        this.logger.error(
          `[group ${group}] acknowledging ${count} entries failed, they stay pending and are claimed again: ${String(error)}`,
        ),
      scope && { current: () => scope.fence(), onFenced: (count) => scope.fenced(count) },
    );
  }

  /** What a read entry becomes; called once per entry read or claimed. */
  protected abstract prepare(source: S, entryId: string, fields: string[], deliveryCount: number): T;

  /** Takes a batch of prepared entries (read together, or claimed together), in read order. */
  protected abstract dispatch(batch: T[]): void;

  /** Resolves once everything dispatched is settled; shutdown waits for it at most `shutdownTimeoutMs`. */
  protected abstract drain(): Promise<void>;

  /** Where a group this consumer creates on `source` starts: `'0'` (the beginning) or `'$'` (new entries). */
  protected abstract startId(source: S): '0' | '$';

  /** Called whenever no read is out (after each read, and when the loop ends). */
  protected release(): void {}

  /**
   * Held entries this consumer no longer owns (acknowledged, dead-lettered or claimed elsewhere,
   * e.g. by an operator), found at lease renewal: a subclass may stop waiting on them.
   */
  protected lost(_source: S, _entryIds: string[]): void {}

  /** The consumer name this reader reads as: the process's, or `p<k>` for a partition. */
  get consumerName(): string {
    return this.scope?.consumer ?? this.core.consumerName;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Whether the read loop is alive: running and back from Redis within `maxSilenceMs`. A blocked
   * read returns at least every blockMs; a loop stuck longer than that (or stopped) is not alive.
   * A loop waiting on a full consumer counts as alive while its work makes progress.
   */
  isAlive(maxSilenceMs = this.tuning.blockMs * 3 + 5_000): boolean {
    return this.running && Date.now() - this.lastLoopAt <= maxSilenceMs;
  }

  /** Entries read and not yet settled (acknowledged, dead-lettered or given up at shutdown). */
  get inFlight(): number {
    return this.held;
  }

  async start(): Promise<void> {
    // NOTE: scripts defined before any timer can call them: an auto-pipeline created before a
    // defineCommand lacks that command, and calling it there breaks the whole pipeline's replies.
    withConsumerScripts(this.core.redis);
    await this.ensureGroups();
    this.reader = this.core.createReader(
      this.group,
      this.scope ? `${this.core.consumerName}-${this.scope.consumer}` : this.core.consumerName,
    );
    // NOTE: defined before the reader's first command (see EventBusCore).
    if (this.scope) withConsumerScripts(this.reader);
    // NOTE: on a cluster CLIENT ID / UNBLOCK would reach a random node: shutdown waits out BLOCK instead.
    if (!this.core.cluster) this.readerId = Number(await this.reader.client('ID'));
    this.running = true;
    this.lastLoopAt = Date.now();
    this.loop = this.run();
    const leaseEvery = Math.max(50, Math.floor(this.tuning.claimTimeoutMs / 3));
    this.timers.push(setInterval(() => void this.renewLeases(), leaseEvery).unref());
    this.timers.push(setInterval(() => void this.claim(), this.tuning.claimIntervalMs).unref());
  }

  /** Stops reading, closes the reader, finishes what was read, acknowledges it. Every call resolves once that is done. */
  stop(): Promise<void> {
    if (!this.loop) return Promise.resolve();
    return (this.stopped ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    this.stopping.abort();
    // NOTE: a loop waiting for room (a full consumer) sees the stop at once.
    this.wakeHeldWaiters();
    if (this.readerId !== undefined) {
      // NOTE: wakes the blocked XREADGROUP at once instead of waiting out BLOCK.
      await this.core.redis.client('UNBLOCK', this.readerId).catch(() => undefined);
    }
    // NOTE: a read queued while Redis is away never returns by itself: closing the reader fails it.
    // The reader is closed once, as soon as the loop is done with it (early in that case).
    if (!(await settlesWithin(this.loop, this.tuning.blockMs + 500))) await this.closeReader();
    await this.loop;
    await this.closeReader();
    const drained = await Promise.race([
      this.drain().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), this.tuning.shutdownTimeoutMs).unref()),
    ]);
    if (!drained) {
      this.logger.warn(
        `[group ${this.group}] ${this.held} deliveries unfinished at shutdown; they stay pending and are claimed by a live instance`,
      );
    }
    // NOTE: bounded: an acknowledgement Redis never answers (a cluster mid-failover) must not hold the stop.
    if (!(await settlesWithin(this.acks.drain(), this.tuning.shutdownTimeoutMs))) {
      this.logger.warn(
        `[group ${this.group}] acknowledgements unanswered at shutdown; their entries stay pending and are delivered again`,
      );
    }
  }

  private async closeReader(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    if (reader) await this.core.closeReader(reader);
  }

  private async ensureGroups(): Promise<void> {
    const scripts = withConsumerScripts(this.core.redis);
    await Promise.all(this.sources.map((source) => scripts.ensureGroup(source.key, this.group, this.startId(source))));
  }

  private async run(): Promise<void> {
    // NOTE: first our own pending entries (read back from id 0), then new ones ('>').
    const keys = this.sources.map((s) => s.key);
    const cursors = this.sources.map(() => '0');
    const fresh = this.sources.map(() => '>');
    let backlog = true;
    let full = false;
    const { batchSize, blockMs } = this.tuning;
    while (this.running) {
      this.lastLoopAt = Date.now();
      await this.heldBelow(batchSize * 2, true);
      this.lastLoopAt = Date.now();
      if (!this.running) break;
      let reply: StreamReply | null;
      // NOTE: after a full batch the next read does not block (more is there, or nothing is), so
      // dispatched batches may wait for it: see GroupConsumer.release().
      this.prefetching = backlog || full;
      try {
        if (this.scope) reply = await this.readFenced(keys, backlog ? cursors : fresh, !this.prefetching);
        else {
          const block = this.prefetching ? [] : ['BLOCK', blockMs];
          reply = (await this.reader!.call('XREADGROUP', [
            'GROUP',
            this.group,
            this.consumerName,
            'COUNT',
            batchSize,
            ...block,
            'STREAMS',
            ...keys,
            ...(backlog ? cursors : fresh),
          ])) as StreamReply | null;
        }
      } catch (error) {
        this.prefetching = false;
        this.release();
        if (!this.running) break;
        if (String(error).includes('FENCED')) {
          // NOTE: the partition is no longer ours: stop reading it (the owner group hands it off).
          this.scope?.fenced(0);
          break;
        }
        await this.recoverFromError('read', error);
        continue;
      }
      this.prefetching = false;
      full = false;
      if (!reply) {
        this.release();
        continue;
      }
      let seen = 0;
      const batch: T[] = [];
      for (const [key, entries] of reply) {
        const index = keys.indexOf(key);
        if (entries.length >= batchSize) full = true;
        const counts =
          backlog && entries.length > 0
            ? await this.deliveryCounts(
                key,
                entries.map(([id]) => id),
              )
            : undefined;
        for (const [entryId, fields] of entries) {
          seen++;
          if (backlog) cursors[index] = entryId;
          const item = this.accept(this.sources[index], entryId, fields, counts?.get(entryId) ?? 1);
          if (item) batch.push(item);
        }
      }
      if (batch.length > 0) this.dispatch(batch);
      if (backlog && seen === 0) backlog = false;
    }
    this.prefetching = false;
    this.release();
  }

  /**
   * A partition's read: XREADGROUP in a script that first checks the lease (a stale owner reads
   * nothing), and, when it finds nothing and `block` is set, a blocking XREAD (no group) from the
   * keys' last ids that returns when something arrives (or after blockMs).
   */
  private async readFenced(keys: string[], ids: string[], block: boolean): Promise<StreamReply | null> {
    const fence = this.scope!.fence();
    if (!fence) throw new Error('FENCED the lease of this partition is gone');
    const reader = withConsumerScripts(this.reader!);
    const answer = await reader.fencedRead(
      keys.length + 1,
      fence.lease,
      ...keys,
      fence.token,
      this.group,
      this.consumerName,
      this.tuning.batchSize,
      ...ids,
    );
    if (answer[0] === 1) return answer[1] as StreamReply;
    if (block) await reader.call('XREAD', ['BLOCK', this.tuning.blockMs, 'STREAMS', ...keys, ...answer.slice(1)]);
    return null;
  }

  /** Takes an entry in (once), or settles it at once when it was deleted while pending. */
  private accept(source: S, entryId: string, fields: string[] | null, deliveryCount: number): T | undefined {
    if (source.held.has(entryId)) return undefined;
    this.stats.delivered++;
    if (fields === null) {
      // NOTE: an entry deleted (trimmed) while pending: nothing left to handle.
      this.stats.trimmedWhilePending++;
      void this.acks.ack(source.key, entryId);
      return undefined;
    }
    const item = this.prepare(source, entryId, fields, deliveryCount);
    source.held.set(entryId, item);
    this.held++;
    return item;
  }

  /** The entry is no longer held (acknowledged, dead-lettered, or given up): the loop may read more. */
  protected settle(source: S, entryId: string): void {
    source.held.delete(entryId);
    this.held--;
    if (this.heldWaiters.length > 0) this.wakeHeldWaiters();
  }

  /** Resolves once fewer than `limit` entries are held (read and not yet settled); `orStopped`: or once stopping began. */
  protected async heldBelow(limit: number, orStopped = false): Promise<void> {
    while (this.held >= limit && !(orStopped && !this.running))
      await new Promise<void>((resolve) => this.heldWaiters.push(resolve));
  }

  private wakeHeldWaiters(): void {
    const waiters = this.heldWaiters;
    this.heldWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Delivery counts of entries this consumer owns (XPENDING, one call per key). */
  private async deliveryCounts(key: string, ids: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    try {
      const rows = (await this.core.redis.xpending(
        key,
        this.group,
        ids[0],
        ids[ids.length - 1],
        ids.length + this.held,
        this.consumerName,
      )) as Array<[string, string, number, number]>;
      for (const [id, , , count] of rows) counts.set(id, Number(count));
    } catch (error) {
      this.logger.warn(`[group ${this.group}] XPENDING failed, delivery counts unknown: ${String(error)}`);
    }
    return counts;
  }

  /** Keeps what this consumer holds from being claimed while it works on it (or waits to). */
  private async renewLeases(): Promise<void> {
    if (this.held === 0) return;
    const redis = withConsumerScripts(this.core.redis);
    try {
      const held = this.sources.filter((s) => s.held.size > 0);
      const lost = await Promise.all(
        held.map((s) => redis.renewLeases(s.key, this.group, this.consumerName, ...s.held.keys())),
      );
      held.forEach((source, i) => {
        if (lost[i].length > 0) this.lost(source, lost[i]);
      });
    } catch (error) {
      this.logger.warn(`[group ${this.group}] lease renewal failed: ${String(error)}`);
    }
  }

  /** Takes over entries idle past the claim timeout, and removes consumers that are gone. */
  private async claim(): Promise<void> {
    if (this.claiming || !this.running) return;
    this.claiming = true;
    try {
      for (const source of this.sources) {
        const room = this.tuning.batchSize - this.held;
        if (room <= 0) break;
        // NOTE: claimIdle reads only the source's key (it is typed for the event path's sources).
        const { claimed, deleted } = await claimIdle(
          this.core.redis,
          source as unknown as Source,
          this.group,
          this.consumerName,
          this.tuning.claimTimeoutMs,
          room,
        );
        if (deleted > 0) {
          this.stats.trimmedWhilePending += deleted;
          this.logger.warn(
            `[group ${this.group}] ${deleted} pending entries of ${source.key} were deleted before being handled (trimmed?)`,
          );
        }
        if (claimed.length > 0) {
          const counts = await this.deliveryCounts(
            source.key,
            claimed.map((c) => c.entryId),
          );
          this.stats.claimed += claimed.length;
          this.logger.log(`[group ${this.group}] claimed ${claimed.length} idle entries of ${source.key}`);
          const batch = claimed
            .map((c) => this.accept(source, c.entryId, c.fields, counts.get(c.entryId) ?? 2))
            .filter((item): item is T => item !== undefined);
          if (batch.length > 0) this.dispatch(batch);
        }
        await removeDeadConsumers(
          this.core.redis,
          source.key,
          this.group,
          this.consumerName,
          this.tuning.deadConsumerIdleMs,
          this.logger,
        );
      }
    } catch (error) {
      await this.recoverFromError('claim', error);
    } finally {
      this.claiming = false;
    }
  }

  private async recoverFromError(what: string, error: unknown): Promise<void> {
    const message = String(error);
    // NOTE: "no longer exists": the key or the group was deleted while the read blocked on it.
    if (message.includes('NOGROUP') || message.includes('no longer exists')) {
      this.logger.warn(
        `[group ${this.group}] group or stream vanished (deleted, or Redis restarted without data?): recreating`,
      );
      await this.ensureGroups().catch(() => undefined);
      // NOTE: a pause, so a group that keeps vanishing cannot spin the loop.
      if (what === 'read') await new Promise((resolve) => setTimeout(resolve, 100));
      return;
    }
    this.logger.warn(`[group ${this.group}] ${what} failed, retrying: ${message}`);
    if (what === 'read') await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
