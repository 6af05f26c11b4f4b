import type Redis from 'ioredis';

/**
 * Collects acknowledgements and sends them as one XACK per stream, pipelined, once per event
 * loop turn: a batch of handlers finishing together costs one round trip.
 */
export class AckBatcher {
  private buffer = new Map<string, string[]>();
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly redis: Redis,
    private readonly group: string,
    private readonly onError: (error: unknown, count: number) => void,
  ) {}

  ack(key: string, entryId: string): void {
    const ids = this.buffer.get(key);
    if (ids) ids.push(entryId);
    else this.buffer.set(key, [entryId]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is buffered and waits for every XACK sent so far. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.inFlight]);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.buffer.size === 0) return;
    const batch = this.buffer;
    this.buffer = new Map();
    const pipeline = this.redis.pipeline();
    let count = 0;
    for (const [key, ids] of batch) {
      pipeline.xack(key, this.group, ...ids);
      count += ids.length;
    }
    const sent: Promise<void> = pipeline
      .exec()
      .then((results) => {
        const failed = results?.find(([error]) => error);
        if (failed) this.onError(failed[0], count);
      })
      .catch((error: unknown) => this.onError(error, count))
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }
}
