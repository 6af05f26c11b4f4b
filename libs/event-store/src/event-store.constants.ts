export const DEFAULT_NAMESPACE = 'eb';
export const DEFAULT_PAGE_SIZE = 1000;
/** Attempts of `handleCommand` after the first, on a ConcurrencyError. */
export const DEFAULT_COMMAND_RETRIES = 3;
/** First backoff of `handleCommand` between attempts, in ms (doubled each time, with jitter). */
export const DEFAULT_RETRY_DELAY_MS = 5;
