import type Redis from 'ioredis';

/** What `publishWait` asks: how many replicas must have a write before a publish resolves, and how long to wait. */
export interface ReplicationPolicy {
  replicas: number;
  timeoutMs: number;
}

/**
 * Redis `WAIT`, shared: the publishes that finish writing in one event-loop turn wait together
 * with one `WAIT <replicas> <timeoutMs>` on the command connection (WAIT covers every write the
 * connection sent before it). Resolves with how many replicas acknowledged them.
 */
export class ReplicationWaiter {
  private next?: Promise<number>;

  constructor(
    private readonly redis: Redis,
    readonly policy: ReplicationPolicy,
  ) {}

  /** Resolves with the number of replicas that have every write sent so far (at most `timeoutMs` later). */
  acknowledged(): Promise<number> {
    if (!this.next) {
      this.next = new Promise<number>((resolve, reject) => {
        setImmediate(() => {
          this.next = undefined;
          this.redis.wait(this.policy.replicas, this.policy.timeoutMs).then(resolve, reject);
        });
      });
    }
    return this.next;
  }
}
