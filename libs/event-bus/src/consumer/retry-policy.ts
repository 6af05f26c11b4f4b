import { UnrecoverableError } from '../errors/unrecoverable.error';
import { CrossSlotTransactionError } from '../errors/cross-slot-transaction.error';

/** How a failing handler is retried. Attempts are counted by the entry's delivery count. */
export interface RetryPolicy {
  /** Deliveries before the entry is dead-lettered (1 = no retry). @default 5 */
  maxAttempts?: number;
  /** Delay before the 2nd delivery, in ms. @default 200 */
  initialDelayMs?: number;
  /** Upper bound of one delay, in ms. @default 30000 */
  maxDelayMs?: number;
  /** Growth per attempt. @default 2 */
  multiplier?: number;
  /** Random spread, as a fraction of the delay (0.2 = +/-20%), so retries of many entries do not align. @default 0.2 */
  jitter?: number;
  /**
   * Whether a failure is worth another attempt (`attempt`: the deliveries so far, from 1). Returning
   * false dead-letters the entry at once with the handler's error, as throwing an
   * `UnrecoverableError` does. @default every error but an UnrecoverableError is retried
   */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
}

export type ResolvedRetryPolicy = Required<Omit<RetryPolicy, 'shouldRetry'>> & Pick<RetryPolicy, 'shouldRetry'>;

export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 200,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.2,
};

export function resolveRetryPolicy(...layers: Array<RetryPolicy | undefined>): ResolvedRetryPolicy {
  const merged = { ...DEFAULT_RETRY_POLICY };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer) as Array<[keyof RetryPolicy, never]>) if (v !== undefined) merged[k] = v;
  }
  if (merged.maxAttempts < 1) throw new Error(`retry maxAttempts must be >= 1, got ${merged.maxAttempts}`);
  return merged;
}

/** Whether `error` after `attempt` deliveries deserves another one (the attempt budget aside). */
export function isRetryable(policy: ResolvedRetryPolicy, error: unknown, attempt: number): boolean {
  // NOTE: a transaction refused for its keys' slots is refused the same way every time.
  if (error instanceof UnrecoverableError || error instanceof CrossSlotTransactionError) return false;
  return policy.shouldRetry ? policy.shouldRetry(error, attempt) : true;
}

/**
 * Delay before the next delivery after `attempt` deliveries failed (attempt >= 1):
 * initialDelay * multiplier^(attempt-1), capped at maxDelay, spread by +/- jitter.
 */
export function backoffDelay(policy: ResolvedRetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}
