import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import { CrossSlotTransactionError } from '../errors/cross-slot-transaction.error';
import { keySlotOf } from '../utils/partition';

/** Each command's `[error, reply]` of one transaction, as ioredis answers `multi().exec()`. */
export type TransactionResults = Array<[Error | null, unknown]>;

interface Queued {
  /** Index of the transaction's MULTI in the pipeline. */
  multi: number;
  /** Index of its EXEC (or DISCARD). */
  end: number;
  resolve(results: TransactionResults): void;
  reject(error: unknown): void;
}

/**
 * Sends the transactions started in one event-loop turn (commits of handlers finishing together,
 * outbox publishes of concurrent requests) as `MULTI ... EXEC` blocks of one pipeline: one socket
 * write and one round trip for all of them, where `redis.multi()` (which ioredis does not
 * auto-pipeline) costs one each. Each block is still its own transaction: Redis applies it whole
 * or, when a command is refused while queuing, not at all (EXECABORT), whatever the others do.
 */
export class TransactionBatcher {
  private pipeline?: ChainableCommander;
  private queued: Queued[] = [];

  constructor(
    private readonly redis: Redis,
    /** On Redis Cluster each transaction goes alone, after its keys were checked to share one slot. */
    private readonly cluster = false,
  ) {}

  /**
   * Runs the commands `build` queues as one transaction; resolves with their results, or rejects
   * when Redis discarded it. On a cluster, rejects with CrossSlotTransactionError before sending
   * anything when its keys are in more than one slot.
   */
  run(build: (tx: ChainableCommander) => void): Promise<TransactionResults> {
    if (this.cluster) return this.runAlone(build);
    if (!this.pipeline) {
      this.pipeline = this.redis.pipeline();
      setImmediate(() => this.flush());
    }
    const pipeline = this.pipeline;
    const multi = pipeline.length;
    pipeline.call('MULTI');
    try {
      build(pipeline);
    } catch (error) {
      // NOTE: what `build` queued before it threw is thrown away with the transaction.
      pipeline.call('DISCARD');
      return Promise.reject(error);
    }
    pipeline.call('EXEC');
    return new Promise((resolve, reject) => this.queued.push({ multi, end: pipeline.length - 1, resolve, reject }));
  }

  private async runAlone(build: (tx: ChainableCommander) => void): Promise<TransactionResults> {
    const tx = this.redis.multi();
    build(tx);
    const slotted = queuedKeys(tx).map((key) => ({ key, slot: keySlotOf(key) }));
    // NOTE: refused before exec(): nothing of it is sent.
    if (new Set(slotted.map((k) => k.slot)).size > 1) throw new CrossSlotTransactionError(slotted);
    const results = await tx.exec();
    if (!results) throw new Error('the transaction was discarded (no reply)');
    return results;
  }

  private flush(): void {
    const pipeline = this.pipeline!;
    const queued = this.queued;
    this.pipeline = undefined;
    this.queued = [];
    if (queued.length === 0) {
      void pipeline.exec().catch(() => undefined);
      return;
    }
    pipeline.exec().then(
      (replies) => {
        for (const q of queued) {
          const reply = replies?.[q.end];
          if (!reply) q.reject(new Error('the transaction was discarded (no reply)'));
          else if (reply[0]) q.reject(withCause(reply[0], queueError(replies!, q)));
          else
            q.resolve((reply[1] as unknown[]).map((value) => (value instanceof Error ? [value, null] : [null, value])));
        }
      },
      (error: unknown) => {
        for (const q of queued) q.reject(error);
      },
    );
  }
}

/** The keys of the commands queued on a pipeline or MULTI that was not sent. */
export function queuedKeys(tx: ChainableCommander): string[] {
  // NOTE: ioredis keeps the queued commands in a private field; each knows its keys.
  const queued = (tx as unknown as { _queue?: Array<{ getKeys(): Array<string | Buffer> }> })._queue ?? [];
  return queued.flatMap((command) => command.getKeys().map((key) => String(key)));
}

/** EXECABORT, naming the refused command that caused it. */
function withCause(error: Error, cause: Error | undefined): Error {
  return cause ? new Error(`${error.message} (${cause.message})`, { cause }) : error;
}

/** The first command Redis refused while queuing the transaction: the cause of its EXECABORT. */
function queueError(replies: TransactionResults, q: Queued): Error | undefined {
  for (let i = q.multi + 1; i < q.end; i++) if (replies[i][0]) return replies[i][0]!;
  return undefined;
}
