import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { EventBusCore, ResolvedTuning } from '../event-bus.core';
import { AckBatcher } from './ack-batcher';
import type { HandlerBinding } from './binding';
import { claimIdle, removeDeadConsumers } from './claimer';
import { withConsumerScripts } from './consumer-scripts';
import { DedupeGuard } from './dedupe.guard';
import { Delivery, Source } from './delivery';
import { DeliveryProcessor } from './delivery-processor';
import { Dispatcher, Pause } from './dispatcher';
import { settlesWithin } from '../utils/settles-within';

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
}

/**
 * One service's consumer in one process: a blocking XREADGROUP loop over every stream the
 * group reads (and the group's redrive streams), dispatch with bounded concurrency and
 * per-subject order, batched XACK, leases on what it holds, and claiming of what dead
 * consumers left behind.
 */
export class GroupConsumer {
  private readonly logger = new Logger(GroupConsumer.name);
  private readonly sources: Source[];
  private readonly dispatcher: Dispatcher;
  private readonly processor: DeliveryProcessor;
  private held = 0;
  private heldWaiters: Array<() => void> = [];
  /** Batches read and not yet handed to the dispatcher (their claims may be out), oldest first. */
  private readonly unreleased: Array<{ batch: Delivery[]; claimed: boolean }> = [];
  private readonly claimsInFlight = new Set<Promise<void>>();
  /** A non-blocking read is out: claimed batches wait for it (see release). */
  private prefetching = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly stopping = new AbortController();
  private reader?: Redis;
  private readerId?: number;
  private running = false;
  private claiming = false;
  private loop?: Promise<void>;
  /** When the read loop last came back from Redis (entries, timeout or error): a liveness signal. */
  private lastLoopAt = 0;
  readonly stats: ConsumerStats = { delivered: 0, acked: 0, failed: 0, retried: 0, deadLettered: 0, duplicates: 0, claimed: 0, trimmedWhilePending: 0 };

  constructor(
    private readonly core: EventBusCore,
    readonly group: string,
    private readonly tuning: ResolvedTuning,
    bindings: HandlerBinding[],
  ) {
    this.dispatcher = new Dispatcher(tuning.concurrency);
    const acks = new AckBatcher(core.redis, group, (error, count) =>
      this.logger.error(`[group ${group}] acknowledging ${count} entries failed, they stay pending and are claimed again: ${String(error)}`),
    );
    this.processor = new DeliveryProcessor({
      core,
      group,
      consumer: core.consumerName,
      tuning,
      bindings,
      acks,
      dedupe: tuning.dedupe.enabled ? new DedupeGuard(core.redis, core.keys, tuning.dedupe.ttlMs) : undefined,
      stats: this.stats,
      stopping: this.stopping.signal,
      logger: this.logger,
    });
    const streams = [...new Set(bindings.map((b) => b.stream))];
    this.sources = streams.flatMap((stream): Source[] => {
      const routes = this.processor.routesFor(stream);
      return [
        { stream, key: core.keys.stream(stream), kind: 'live', held: new Map(), routes },
        { stream, key: core.keys.redrive(stream, group), kind: 'redrive', held: new Map(), routes },
        { stream, key: core.keys.replay(stream, group), kind: 'replay', held: new Map(), routes },
      ];
    });
  }

  get consumerName(): string {
    return this.core.consumerName;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Whether the read loop is alive: running and back from Redis within `maxSilenceMs`. A blocked
   * read returns at least every blockMs; a loop stuck longer than that (or stopped) is not alive.
   * A loop waiting on a full dispatcher counts as alive while its handlers make progress.
   */
  isAlive(maxSilenceMs = this.tuning.blockMs * 3 + 5_000): boolean {
    return this.running && Date.now() - this.lastLoopAt <= maxSilenceMs;
  }

  /** Entries read and not yet settled (acknowledged, dead-lettered or given up at shutdown). */
  get inFlight(): number {
    return this.held;
  }

  async start(): Promise<void> {
    await this.ensureGroups();
    this.reader = this.core.createReader(this.group);
    this.readerId = Number(await this.reader.client('ID'));
    this.running = true;
    this.lastLoopAt = Date.now();
    this.loop = this.run();
    const leaseEvery = Math.max(50, Math.floor(this.tuning.claimTimeoutMs / 3));
    this.timers.push(setInterval(() => void this.renewLeases(), leaseEvery).unref());
    this.timers.push(setInterval(() => void this.claim(), this.tuning.claimIntervalMs).unref());
  }

  /** Stops reading, closes the reader, finishes what was read, acknowledges it. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    this.stopping.abort();
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
      this.logger.warn(`[group ${this.group}] ${this.held} deliveries unfinished at shutdown; they stay pending and are claimed by a live instance`);
    }
    await this.processor.acks.drain();
  }

  private async closeReader(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    if (reader) await this.core.closeReader(reader);
  }

  /** Waits for the batches still being claimed, hands them over, and waits for every delivery. */
  private async drain(): Promise<void> {
    while (this.claimsInFlight.size > 0) await Promise.all([...this.claimsInFlight]);
    this.release();
    await this.dispatcher.idle();
  }

  private async ensureGroups(): Promise<void> {
    for (const source of this.sources) {
      const start = source.kind === 'live' && this.tuning.startFrom === 'new' ? '$' : '0';
      try {
        await this.core.redis.xgroup('CREATE', source.key, this.group, start, 'MKSTREAM');
      } catch (error) {
        if (!String(error).includes('BUSYGROUP')) throw error;
      }
    }
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
      await this.heldBelow(batchSize * 2);
      this.lastLoopAt = Date.now();
      if (!this.running) break;
      let reply: StreamReply | null;
      // NOTE: after a full batch the next read does not block (more is there, or nothing is), so
      // claimed batches may wait for it: see release().
      this.prefetching = backlog || full;
      try {
        const block = this.prefetching ? [] : ['BLOCK', blockMs];
        reply = (await this.reader!.call('XREADGROUP', ['GROUP', this.group, this.consumerName, 'COUNT', batchSize, ...block, 'STREAMS', ...keys, ...(backlog ? cursors : fresh)])) as StreamReply | null;
      } catch (error) {
        this.prefetching = false;
        this.release();
        if (!this.running) break;
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
      const batch: Delivery[] = [];
      for (const [key, entries] of reply) {
        const index = keys.indexOf(key);
        if (entries.length >= batchSize) full = true;
        const counts = backlog && entries.length > 0 ? await this.deliveryCounts(key, entries.map(([id]) => id)) : undefined;
        for (const [entryId, fields] of entries) {
          seen++;
          if (backlog) cursors[index] = entryId;
          const delivery = this.accept(this.sources[index], entryId, fields, counts?.get(entryId) ?? 1);
          if (delivery) batch.push(delivery);
        }
      }
      this.dispatch(batch);
      if (backlog && seen === 0) backlog = false;
    }
    this.prefetching = false;
    this.release();
  }

  /** Takes an entry in (once), or settles it at once when it was deleted while pending. */
  private accept(source: Source, entryId: string, fields: string[] | null, deliveryCount: number): Delivery | undefined {
    if (source.held.has(entryId)) return undefined;
    this.stats.delivered++;
    if (fields === null) {
      // NOTE: an entry deleted (trimmed) while pending: nothing left to handle.
      this.stats.trimmedWhilePending++;
      void this.processor.acks.ack(source.key, entryId);
      return undefined;
    }
    const delivery = this.processor.prepare(source, entryId, fields, deliveryCount);
    source.held.set(entryId, delivery);
    this.held++;
    return delivery;
  }

  /**
   * Queues a batch for the dispatcher and has the dedupe guard claim its events (one round trip).
   * A batch reaches the dispatcher once claimed, in read order (per-subject order holds).
   */
  private dispatch(batch: Delivery[]): void {
    if (batch.length === 0) return;
    const begun = this.processor.begin(batch);
    const queued = { batch, claimed: !begun };
    this.unreleased.push(queued);
    if (begun) {
      const settled = begun.then(() => {
        queued.claimed = true;
        this.claimsInFlight.delete(settled);
        this.release();
      });
      this.claimsInFlight.add(settled);
    }
    this.release();
  }

  /**
   * Hands claimed batches to the dispatcher, oldest first. While a non-blocking read is out, they
   * wait for it: its batch's claim then goes out before they run, so the claim's round trip
   * overlaps their handling instead of leaving the process idle between batches.
   */
  private release(): void {
    if (this.prefetching) return;
    while (this.unreleased.length > 0 && this.unreleased[0].claimed) {
      for (const delivery of this.unreleased.shift()!.batch) this.dispatcher.submit(delivery.envelope?.subject, this.run1, delivery);
    }
  }

  /** Resolves once fewer than `limit` entries are held (read and not yet settled). */
  private async heldBelow(limit: number): Promise<void> {
    while (this.held >= limit) await new Promise<void>((resolve) => this.heldWaiters.push(resolve));
  }

  /** The dispatcher task of one delivery (one function for all, no closure per entry). */
  private readonly run1 = async (pause: Pause, delivery: Delivery): Promise<void> => {
    try {
      await this.processor.process(delivery, pause);
    } finally {
      delivery.source.held.delete(delivery.entryId);
      this.held--;
      if (this.heldWaiters.length > 0) {
        const waiters = this.heldWaiters;
        this.heldWaiters = [];
        for (const wake of waiters) wake();
      }
    }
  };

  /** Delivery counts of entries this consumer owns (XPENDING, one call per stream). */
  private async deliveryCounts(key: string, ids: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    try {
      const rows = (await this.core.redis.xpending(key, this.group, ids[0], ids[ids.length - 1], ids.length + this.held, this.consumerName)) as Array<[string, string, number, number]>;
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
      await Promise.all(held.map((s) => redis.renewLeases(s.key, this.group, this.consumerName, ...s.held.keys())));
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
        const { claimed, deleted } = await claimIdle(this.core.redis, source, this.group, this.consumerName, this.tuning.claimTimeoutMs, room);
        if (deleted > 0) {
          this.stats.trimmedWhilePending += deleted;
          this.logger.warn(`[group ${this.group}] ${deleted} pending entries of ${source.key} were deleted before being handled (trimmed?)`);
        }
        if (claimed.length > 0) {
          const counts = await this.deliveryCounts(source.key, claimed.map((c) => c.entryId));
          this.stats.claimed += claimed.length;
          this.logger.log(`[group ${this.group}] claimed ${claimed.length} idle entries of ${source.key}`);
          const batch = claimed.map((c) => this.accept(source, c.entryId, c.fields, counts.get(c.entryId) ?? 2)).filter((d): d is Delivery => d !== undefined);
          this.dispatch(batch);
        }
        await removeDeadConsumers(this.core.redis, source.key, this.group, this.consumerName, this.tuning.deadConsumerIdleMs, this.logger);
      }
    } catch (error) {
      await this.recoverFromError('claim', error);
    } finally {
      this.claiming = false;
    }
  }

  private async recoverFromError(what: string, error: unknown): Promise<void> {
    const message = String(error);
    if (message.includes('NOGROUP')) {
      this.logger.warn(`[group ${this.group}] group or stream vanished (Redis restarted without data?): recreating`);
      await this.ensureGroups().catch(() => undefined);
      return;
    }
    this.logger.warn(`[group ${this.group}] ${what} failed, retrying: ${message}`);
    if (what === 'read') await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
