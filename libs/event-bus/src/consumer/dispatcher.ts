/** Gives the task's concurrency slot back while `work` runs (a retry's backoff), then takes one again. */
export type Pause = <T>(work: Promise<T>) => Promise<T>;

export type Task = (pause: Pause) => Promise<void>;

/**
 * Runs tasks with at most `concurrency` at once, and tasks that share a key (the event's
 * `subject`) one after another in submission order. Tasks without a key run in any order.
 */
export class Dispatcher {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly tails = new Map<string, Promise<void>>();
  private pending = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly concurrency: number) {}

  /** Tasks submitted and not yet finished. */
  get size(): number {
    return this.pending;
  }

  submit(key: string | undefined, task: Task): void {
    this.pending++;
    const run = (): Promise<void> => this.withSlot(task);
    if (key === undefined) {
      void run().finally(() => this.done());
      return;
    }
    const previous = this.tails.get(key);
    const next = previous ? previous.then(run) : run();
    const tail = next.finally(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
      this.done();
    });
    this.tails.set(key, tail);
  }

  /** Resolves once every submitted task has finished. */
  async idle(): Promise<void> {
    await this.below(1);
  }

  /** Resolves once fewer than `limit` tasks are pending. */
  async below(limit: number): Promise<void> {
    while (this.pending >= limit) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async withSlot(task: Task): Promise<void> {
    await this.acquire();
    try {
      await task(this.pause);
    } catch {
      // NOTE: tasks handle their own failures; a throw here must not break the subject chain.
    } finally {
      this.release();
    }
  }

  private readonly pause: Pause = async (work) => {
    this.release();
    try {
      return await work;
    } finally {
      await this.acquire();
    }
  };

  private async acquire(): Promise<void> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }

  private done(): void {
    this.pending--;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
