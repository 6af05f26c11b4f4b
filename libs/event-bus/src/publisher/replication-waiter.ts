import type Redis from 'ioredis';
import { keySlotOf } from '../utils/partition';

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
  /** On Redis Cluster: the WAIT of this event-loop turn per slot written. */
  private bySlot = new Map<number, Promise<number>>();

  constructor(
    private readonly redis: Redis,
    readonly policy: ReplicationPolicy,
    /** Redis Cluster: WAIT must reach the master that took the writes. */
    private readonly cluster = false,
  ) {}

  /**
   * Resolves with the number of replicas that have every write sent so far (at most `timeoutMs`
   * later). On Redis Cluster, `keys` are the keys written: WAIT runs on each of their masters (a
   * keyless WAIT would reach a random one), and the smallest count is the answer.
   */
  async acknowledged(keys: readonly string[] = []): Promise<number> {
    if (!this.cluster) return this.shared();
    const bySlot = new Map<number, string>();
    for (const key of keys) bySlot.set(keySlotOf(key), key);
    if (bySlot.size === 0) return this.policy.replicas;
    const counts = await Promise.all([...bySlot].map(([slot, key]) => this.onSlot(slot, key)));
    return Math.min(...counts);
  }

  /** One WAIT per slot and event-loop turn, sent with a read of `key` so the cluster client routes it to that key's master (on the connection that sent the writes). */
  private onSlot(slot: number, key: string): Promise<number> {
    let pending = this.bySlot.get(slot);
    if (!pending) {
      pending = new Promise<number>((resolve, reject) => {
        setImmediate(() => {
          this.bySlot.delete(slot);
          this.redis
            .pipeline()
            .exists(key)
            .call('WAIT', this.policy.replicas, this.policy.timeoutMs)
            .exec()
            .then((results) => {
              const [error, count] = results?.[1] ?? [new Error('WAIT got no reply'), 0];
              if (error) reject(error);
              else resolve(Number(count));
            }, reject);
        });
      });
      this.bySlot.set(slot, pending);
    }
    return pending;
  }

  private shared(): Promise<number> {
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
