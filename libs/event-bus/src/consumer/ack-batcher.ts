import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import type { LeaseFence } from '../dead-letter/dead-letter.writer';
import type { ConsumerScripts } from './consumer-scripts';
import { queueHandled } from './dedupe.guard';
import type { DedupeBucket } from './dedupe.guard';
import { stageProbe } from './stage-probe';

interface PendingAcks {
  ids: string[];
  /** Events handled after a retry, to mark with these acks, by dedupe bucket. */
  buckets: Map<DedupeBucket, Array<[eventId: string, attempts: number]>>;
}

/**
 * Collects acknowledgements and sends them once per event-loop turn in one pipeline: the final
 * dedupe markers of events handled after a retry (`<ms>:<attempts>`, one HSET per bucket), then
 * per stream one XACK. An event handled at its first delivery needs no write: its claim plus the
 * acknowledgement say it (see DedupeGuard). A batch of handlers finishing together costs one
 * round trip.
 *
 * No MULTI: markers go before the acks on one connection, so the only partial outcome (a
 * connection lost in between) is markers without their ack, which is harmless: the entries are
 * delivered again and acknowledged as duplicates. (MULTI cost ~8% of consume throughput.)
 */
export class AckBatcher {
  private buffer = new Map<string, PendingAcks>();
  private scheduled = false;
  /** Resolves when the buffered acknowledgements have been answered by Redis (or failed). */
  private nextFlush?: { promise: Promise<void>; resolve: () => void };
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly redis: Redis,
    private readonly group: string,
    private readonly onError: (error: unknown, count: number) => void,
    /**
     * The lease of the partition these acknowledgements belong to (partitioned groups): each XACK
     * then runs only while the lease is still ours, and `onFenced` counts what was refused.
     */
    private readonly fence?: { current(): LeaseFence | undefined; onFenced(count: number): void },
  ) {}

  /**
   * Acknowledge `entryId`; with a dedupe bucket and more than one attempt, also write its event's
   * final marker. The promise resolves once the batch it went out in was answered (it never rejects).
   */
  ack(key: string, entryId: string, bucket?: DedupeBucket, eventId?: string, attempts = 1): Promise<void> {
    let acks = this.buffer.get(key);
    if (!acks) this.buffer.set(key, (acks = { ids: [], buckets: new Map() }));
    acks.ids.push(entryId);
    if (bucket && attempts > 1) {
      const marks = acks.buckets.get(bucket);
      if (marks) marks.push([eventId!, attempts]);
      else acks.buckets.set(bucket, [[eventId!, attempts]]);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.nextFlush = { promise, resolve };
      setImmediate(() => this.flush());
    }
    return this.nextFlush!.promise;
  }

  /** Sends what is buffered and waits for every acknowledgement sent so far. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.inFlight]);
  }

  private flush(): void {
    this.scheduled = false;
    const flushed = this.nextFlush;
    this.nextFlush = undefined;
    if (this.buffer.size === 0) {
      flushed?.resolve();
      return;
    }
    const batch = this.buffer;
    this.buffer = new Map();
    const pipeline = this.redis.pipeline();
    const now = Date.now();
    let count = 0;
    for (const acks of batch.values()) {
      for (const [bucket, marks] of acks.buckets) queueHandled(pipeline, bucket, marks, now);
    }
    const fence = this.fence?.current();
    if (this.fence && !fence) {
      // NOTE: the partition's lease is gone: its next owner settles these entries.
      let refused = 0;
      for (const acks of batch.values()) refused += acks.ids.length;
      this.fence.onFenced(refused);
      flushed?.resolve();
      return;
    }
    for (const [key, acks] of batch) {
      count += acks.ids.length;
      if (fence)
        (pipeline as ChainableCommander & ConsumerScripts).fencedAck(
          fence.lease,
          key,
          fence.token,
          this.group,
          ...acks.ids,
        );
      else pipeline.xack(key, this.group, ...acks.ids);
    }
    const sent: Promise<void> = pipeline
      .exec()
      .then((results) => {
        const failed = (results ?? [[new Error('pipeline discarded'), null]]).find(([error]) => error);
        if (failed && String(failed[0]).includes('FENCED')) this.fence!.onFenced(count);
        else if (failed) this.onError(failed[0], count);
        else if (stageProbe.on) for (const acks of batch.values()) stageProbe.on('acked', acks.ids);
      })
      .catch((error: unknown) => this.onError(error, count))
      .finally(() => {
        this.inFlight.delete(sent);
        flushed?.resolve();
      });
    this.inFlight.add(sent);
  }
}
