/** Gives the task's concurrency slot back while `work` runs (a retry's backoff), then takes one again. */
export type Pause = <T>(work: Promise<T>) => Promise<T>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Task<A = any> = (pause: Pause, arg: A) => Promise<void>;

interface Queued {
  task: Task;
  arg: unknown;
  key: string | undefined;
}

/** A held key with nothing queued behind it (shared, never pushed to). */
const NONE_BEHIND: Array<{ task: Task; arg: unknown }> = Object.freeze([]) as unknown as Array<{
  task: Task;
  arg: unknown;
}>;

/**
 * Runs tasks with at most `concurrency` at once, and tasks that share a key (the event's
 * `subject`) one after another in submission order. Tasks without a key run in any order.
 * Built on plain queues (one promise per task) because it sits on the consumer's hot path.
 */
export class Dispatcher {
  private running = 0;
  private pending = 0;
  /** Runnable tasks waiting for a slot. */
  private readonly ready: Queued[] = [];
  /** Paused tasks waiting to get a slot back; served before `ready`. */
  private readonly resuming: Array<() => void> = [];
  /** Per key held by a task, the tasks queued behind it (NONE_BEHIND until one is: no array per task). */
  private readonly queues = new Map<string, Array<{ task: Task; arg: unknown }>>();
  private waiters: Array<() => void> = [];

  constructor(private readonly concurrency: number) {}

  /** Tasks submitted and not yet finished. */
  get size(): number {
    return this.pending;
  }

  /** Runs `task(pause, arg)`; `arg` spares a closure per task on the hot path. */
  submit<A>(key: string | undefined, task: Task<A>, arg?: A): void {
    this.pending++;
    if (key !== undefined) {
      const queue = this.queues.get(key);
      if (queue) {
        if (queue === NONE_BEHIND) this.queues.set(key, [{ task, arg }]);
        else queue.push({ task, arg });
        return;
      }
      this.queues.set(key, NONE_BEHIND);
    }
    if (this.running < this.concurrency) this.start({ task, arg, key });
    else this.ready.push({ task, arg, key });
  }

  /** Resolves once every submitted task has finished. */
  async idle(): Promise<void> {
    await this.below(1);
  }

  /** Resolves once fewer than `limit` tasks are pending. */
  async below(limit: number): Promise<void> {
    while (this.pending >= limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private start(queued: Queued): void {
    this.running++;
    let settled: Promise<void>;
    try {
      settled = queued.task(this.pause, queued.arg);
    } catch {
      settled = Promise.resolve();
    }
    // NOTE: tasks handle their own failures; a rejection here must not break a key's chain.
    const done = (): void => this.finish(queued.key);
    settled.then(done, done);
  }

  private finish(key: string | undefined): void {
    this.pending--;
    this.running--;
    if (key !== undefined) {
      const queue = this.queues.get(key)!;
      const next = queue === NONE_BEHIND ? undefined : queue.shift();
      if (next) this.ready.push({ task: next.task, arg: next.arg, key });
      else this.queues.delete(key);
    }
    this.fill();
    if (this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  private fill(): void {
    while (this.running < this.concurrency) {
      const resume = this.resuming.shift();
      if (resume) {
        this.running++;
        resume();
        continue;
      }
      const next = this.ready.shift();
      if (!next) return;
      this.start(next);
    }
  }

  private readonly pause: Pause = async (work) => {
    this.running--;
    this.fill();
    try {
      return await work;
    } finally {
      if (this.running < this.concurrency && this.resuming.length === 0) this.running++;
      else await new Promise<void>((resolve) => this.resuming.push(resolve));
    }
  };
}
