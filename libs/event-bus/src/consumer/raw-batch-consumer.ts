import type { EventBusCore, ResolvedTuning } from '../event-bus.core';
import type { RawBatchHandler, RawEntry } from '../subscriptions/raw-subscription.interface';
import { GroupReader, PartitionScope, ReadSource } from './group-reader';
import { backoffDelay } from './retry-policy';
import { abortableSleep } from '../utils/abortable-sleep';

/** A key a raw subscription reads: a stream or its dead-letter stream. */
interface RawSource extends ReadSource<RawEntry> {
  stream: string;
  kind: RawEntry['kind'];
}

export interface RawBatchSpec {
  streams: string[];
  deadLetters: boolean;
  handle: RawBatchHandler;
}

/**
 * The raw batch path on the shared consumer loop: entries are handed over as they were read, one
 * batch at a time, with no decoding, validation or dedupe guard. A batch is acknowledged once its
 * handler resolved; a failing batch is retried with backoff until handled (or left pending at
 * shutdown), with one warning per failure streak.
 */
export class RawBatchConsumer extends GroupReader<RawEntry, RawSource> {
  protected readonly sources: RawSource[];
  private readonly byKey = new Map<string, RawSource>();
  private readonly queue: RawEntry[][] = [];
  private working?: Promise<void>;
  /** Batches have been failing since this many attempts (0: not failing). */
  private failures = 0;

  constructor(
    core: EventBusCore,
    group: string,
    tuning: ResolvedTuning,
    private readonly spec: RawBatchSpec,
    scope?: PartitionScope,
  ) {
    super(core, group, tuning, scope);
    const k = scope?.k ?? 0;
    this.sources = spec.streams.flatMap((stream): RawSource[] => [
      { stream, kind: 'event', key: core.keys.stream(stream, k), held: new Map() },
      ...(spec.deadLetters
        ? [
            {
              stream,
              kind: 'dead-letter' as const,
              key: core.keys.deadLetter(stream, k),
              held: new Map<string, RawEntry>(),
            },
          ]
        : []),
    ]);
    for (const source of this.sources) this.byKey.set(source.key, source);
  }

  protected override startId(): '0' | '$' {
    return this.tuning.startFrom === 'new' ? '$' : '0';
  }

  protected override prepare(source: RawSource, entryId: string, fields: string[], deliveryCount: number): RawEntry {
    return { stream: source.stream, kind: source.kind, key: source.key, entryId, fields, deliveryCount };
  }

  protected override dispatch(batch: RawEntry[]): void {
    this.queue.push(batch);
    this.working ??= this.work();
  }

  protected override async drain(): Promise<void> {
    while (this.working) await this.working;
  }

  /** Handles the queued batches one after another, in the order they were read. */
  private async work(): Promise<void> {
    try {
      for (let batch = this.queue.shift(); batch; batch = this.queue.shift()) await this.settleBatch(batch);
    } finally {
      this.working = undefined;
    }
  }

  /** Runs the handler until it succeeds (then acknowledges), or gives up at shutdown; the batch is no longer held either way. */
  private async settleBatch(batch: RawEntry[]): Promise<void> {
    try {
      let entries = batch;
      for (let attempt = 1; ; attempt++) {
        const error = await this.attempt(entries);
        if (error === undefined) break;
        this.stats.failed++;
        if (this.failures++ === 0) {
          const message = error instanceof Error ? error.message : String(error);
          this.logger.warn(
            `[group ${this.group}] a batch of ${entries.length} entries failed, retrying with backoff until it succeeds (it stays pending): ${message}`,
          );
        }
        if (!(await abortableSleep(backoffDelay(this.tuning.retry, attempt), this.stopping.signal))) return; // NOTE: shutting down: left pending for a restart or a claim.
        entries = await this.reclaim(entries);
        if (entries.length === 0) return;
        this.stats.retried++;
      }
      if (this.failures > 0) {
        this.logger.log(`[group ${this.group}] batches succeed again after ${this.failures} failed attempt(s)`);
        this.failures = 0;
      }
      this.stats.acked += entries.length;
      for (const entry of entries) void this.acks.ack(entry.key, entry.entryId);
    } finally {
      for (const entry of batch) this.settle(this.byKey.get(entry.key)!, entry.entryId);
    }
  }

  /** One run of the handler: its error, or undefined. */
  private async attempt(entries: RawEntry[]): Promise<unknown> {
    try {
      await this.spec.handle(entries);
      return undefined;
    } catch (error) {
      // NOTE: a handler may throw undefined; it still failed.
      return error ?? new Error('the raw batch handler threw undefined');
    }
  }

  /**
   * Before a retry: takes the entries again (XCLAIM, which counts the delivery), keeping those
   * still pending; an entry acknowledged or deleted meanwhile is dropped. When Redis cannot be
   * asked, the batch is retried as it is.
   */
  private async reclaim(entries: RawEntry[]): Promise<RawEntry[]> {
    const byKey = new Map<string, RawEntry[]>();
    for (const entry of entries) {
      const list = byKey.get(entry.key);
      if (list) list.push(entry);
      else byKey.set(entry.key, [entry]);
    }
    try {
      const kept: RawEntry[] = [];
      for (const [key, list] of byKey) {
        const reply = (await this.core.redis.xclaim(
          key,
          this.group,
          this.consumerName,
          0,
          ...list.map((e) => e.entryId),
        )) as Array<[string, string[] | null]>;
        const pending = new Set(reply.map(([id]) => id));
        for (const entry of list) {
          if (!pending.has(entry.entryId)) continue;
          entry.deliveryCount++;
          kept.push(entry);
        }
      }
      return kept;
    } catch {
      return entries;
    }
  }
}
