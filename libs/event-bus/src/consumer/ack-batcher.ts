import type Redis from 'ioredis';
import type { Marker } from './dedupe.guard';

interface PendingAcks {
  ids: string[];
  /** Dedupe markers to set with these acks, by bucket key. */
  buckets: Map<string, { fields: string[]; expireAt: number }>;
  markers: Marker[];
}

/**
 * Collects acknowledgements and sends them once per event-loop turn: per stream one XACK, in a
 * MULTI with one HSET + EXPIREAT per dedupe bucket when markers go with them. A batch of
 * handlers finishing together costs one round trip.
 */
export class AckBatcher {
  private buffer = new Map<string, PendingAcks>();
  private scheduled = false;
  /** Resolves when the buffered acknowledgements have been answered by Redis (or failed). */
  private nextFlush?: { promise: Promise<void>; resolve: () => void };
  private readonly inFlight = new Set<Promise<void>>();
  /** Told the dedupe markers of each flush just before it is sent. */
  onMarkersSent?: (markers: Marker[]) => void;

  constructor(
    private readonly redis: Redis,
    private readonly group: string,
    private readonly onError: (error: unknown, count: number) => void,
  ) {}

  /**
   * Acknowledge `entryId`; with `marker`, also mark its event handled for the dedupe guard.
   * The promise resolves once the batch it went out in was answered (it never rejects).
   */
  ack(key: string, entryId: string, marker?: Marker): Promise<void> {
    let acks = this.buffer.get(key);
    if (!acks) this.buffer.set(key, (acks = { ids: [], buckets: new Map(), markers: [] }));
    acks.ids.push(entryId);
    if (marker) {
      acks.markers.push(marker);
      const bucket = acks.buckets.get(marker.key);
      if (bucket) bucket.fields.push(marker.field);
      else acks.buckets.set(marker.key, { fields: [marker.field], expireAt: marker.expireAt });
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
    if (this.onMarkersSent) for (const acks of batch.values()) if (acks.markers.length > 0) this.onMarkersSent(acks.markers);
    // NOTE: plain XACKs share one pipeline; a stream with markers gets its own MULTI (sent in the same tick).
    const pipeline = this.redis.pipeline();
    const writes: Array<Promise<Array<[Error | null, unknown]> | null>> = [];
    let count = 0;
    for (const [key, acks] of batch) {
      count += acks.ids.length;
      if (acks.buckets.size === 0) {
        pipeline.xack(key, this.group, ...acks.ids);
        continue;
      }
      const tx = this.redis.multi();
      for (const [bucket, { fields, expireAt }] of acks.buckets) {
        tx.hset(bucket, ...fields.flatMap((field) => [field, '1']));
        tx.expireat(bucket, expireAt);
      }
      tx.xack(key, this.group, ...acks.ids);
      writes.push(tx.exec());
    }
    if (pipeline.length > 0) writes.push(pipeline.exec());
    const sent: Promise<void> = Promise.all(writes)
      .then((all) => {
        const discarded: [Error | null, unknown] = [new Error('transaction discarded'), null];
        const failed = all.flatMap((results): Array<[Error | null, unknown]> => results ?? [discarded]).find(([error]) => error);
        if (failed) this.onError(failed[0], count);
      })
      .catch((error: unknown) => this.onError(error, count))
      .finally(() => {
        this.inFlight.delete(sent);
        flushed?.resolve();
      });
    this.inFlight.add(sent);
  }
}
