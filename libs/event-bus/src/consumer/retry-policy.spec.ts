import { UnrecoverableError } from '../errors/unrecoverable.error';
import { backoffDelay, DEFAULT_RETRY_POLICY, isRetryable, resolveRetryPolicy } from './retry-policy';

describe('retry policy', () => {
  it('grows exponentially from the initial delay and stops at the cap', () => {
    const policy = resolveRetryPolicy({ jitter: 0, initialDelayMs: 100, multiplier: 3, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(policy, attempt))).toEqual([100, 300, 900, 1000, 1000]);
  });

  it('spreads each delay within +/- jitter', () => {
    const policy = resolveRetryPolicy({ jitter: 0.2, initialDelayMs: 1000 });
    expect(backoffDelay(policy, 1, () => 0)).toBe(800);
    expect(backoffDelay(policy, 1, () => 1)).toBe(1200);
    const samples = Array.from({ length: 200 }, () => backoffDelay(policy, 1));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...samples)).toBeLessThanOrEqual(1200);
    expect(new Set(samples).size).toBeGreaterThan(20);
  });

  it('layers handler options over group options over the documented defaults', () => {
    expect(resolveRetryPolicy(undefined, {})).toEqual(DEFAULT_RETRY_POLICY);
    expect(resolveRetryPolicy({ maxAttempts: 3, jitter: 0 }, { maxAttempts: 7 })).toMatchObject({
      maxAttempts: 7,
      jitter: 0,
      initialDelayMs: 200,
    });
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});

describe('isRetryable', () => {
  it('refuses an UnrecoverableError and whatever shouldRetry refuses, and retries the rest', () => {
    const plain = resolveRetryPolicy();
    expect(isRetryable(plain, new Error('timeout'), 1)).toBe(true);
    expect(isRetryable(plain, new UnrecoverableError('no such customer'), 1)).toBe(false);
    const picky = resolveRetryPolicy({ shouldRetry: (error, attempt) => !(error instanceof TypeError) && attempt < 3 });
    expect(isRetryable(picky, new TypeError('x is undefined'), 1)).toBe(false);
    expect(isRetryable(picky, new Error('timeout'), 2)).toBe(true);
    expect(isRetryable(picky, new Error('timeout'), 3)).toBe(false);
  });
});
