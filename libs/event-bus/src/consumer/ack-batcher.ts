import type Redis from 'ioredis';
import { withConsumerScripts } from './consumer-scripts';

interface PendingAcks {
  ids: string[];
  markers: string[];
  markerIds: string[];
}

/**
 * Collects acknowledgements and sends them once per event-loop turn: one XACK per stream for
 * entries without a dedupe marker, one atomic "mark done + XACK" script call per stream for the
 * rest. A batch of handlers finishing together costs one round trip.
 */
export class AckBatcher {
  private buffer = new Map<string, PendingAcks>();
  private scheduled = false;
  /** Resolves when the buffered acknowledgements have been answered by Redis (or failed). */
  private nextFlush?: { promise: Promise<void>; resolve: () => void };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly redis;
  /** Told the dedupe markers of each flush just before it is sent. */
  onMarkersSent?: (markers: string[]) => void;

  constructor(
    redis: Redis,
    private readonly group: string,
    private readonly markerTtlMs: number,
    private readonly onError: (error: unknown, count: number) => void,
  ) {
    this.redis = withConsumerScripts(redis);
  }

  /**
   * Acknowledge `entryId`; with `marker`, also mark its event handled for the dedupe guard.
   * The promise resolves once the batch it went out in was answered (it never rejects).
   */
  ack(key: string, entryId: string, marker?: string): Promise<void> {
    let acks = this.buffer.get(key);
    if (!acks) this.buffer.set(key, (acks = { ids: [], markers: [], markerIds: [] }));
    if (marker) {
      acks.markers.push(marker);
      acks.markerIds.push(entryId);
    } else {
      acks.ids.push(entryId);
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
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & { ackDone(n: number, ...a: Array<string | number>): unknown };
    let count = 0;
    for (const [key, acks] of batch) {
      if (acks.ids.length > 0) pipeline.xack(key, this.group, ...acks.ids);
      if (acks.markers.length > 0) {
        pipeline.ackDone(1 + acks.markers.length, key, ...acks.markers, this.group, this.markerTtlMs, ...acks.markerIds);
      }
      count += acks.ids.length + acks.markerIds.length;
    }
    const sent: Promise<void> = pipeline
      .exec()
      .then((results) => {
        const failed = results?.find(([error]) => error);
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
