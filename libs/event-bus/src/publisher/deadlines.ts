interface Waiter {
  at: number;
  fail: () => void;
}

/**
 * Fails promises that outlive their deadline, with one timer for all of them: a setTimeout plus
 * a Promise.race per publish cost ~10% of concurrent publish throughput. Deadlines fire up to
 * `resolutionMs` late.
 */
export class Deadlines {
  // NOTE: insertion order is deadline order when every deadline is "now + the same timeout",
  // which is how the publisher uses it, so a sweep stops at the first live waiter.
  private readonly waiting = new Set<Waiter>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly resolutionMs = 25) {}

  /**
   * `work`'s outcome, or `timeout()` as the rejection once `at` (epoch ms) has passed first;
   * `mapError` turns either rejection into the one the caller throws.
   */
  race<T>(
    work: Promise<T>,
    at: number,
    timeout: () => Error,
    mapError: (error: unknown) => unknown = (error) => error,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = { at, fail: () => reject(mapError(timeout())) };
      this.waiting.add(waiter);
      if (!this.timer) {
        this.timer = setInterval(() => this.sweep(), this.resolutionMs);
        this.timer.unref();
      }
      work.then(
        (value) => {
          this.waiting.delete(waiter);
          resolve(value);
        },
        (error: unknown) => {
          this.waiting.delete(waiter);
          reject(mapError(error));
        },
      );
    });
  }

  /** How many promises are being watched. */
  get size(): number {
    return this.waiting.size;
  }

  private sweep(): void {
    const now = Date.now();
    for (const waiter of this.waiting) {
      if (waiter.at > now) break;
      this.waiting.delete(waiter);
      waiter.fail();
    }
    if (this.waiting.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
