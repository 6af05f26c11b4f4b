import { BAD_EXPECTED_VERSION } from '../event-store.messages';
import type { ExpectedVersion } from '../interfaces/append.interface';

/** The expected version as the append script reads it: `any`, `no-stream` or digits. */
export function encodeExpectedVersion(expected: ExpectedVersion | undefined): string {
  if (expected === undefined || expected === 'any') return 'any';
  if (expected === 'no-stream') return 'no-stream';
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return String(expected);
  throw new RangeError(BAD_EXPECTED_VERSION(expected));
}

/** Whether a stream at `actual` satisfies `expected` (the script's rule, for callers that check before deciding). */
export function matchesExpectedVersion(expected: ExpectedVersion | undefined, actual: number): boolean {
  if (expected === undefined || expected === 'any') return true;
  if (expected === 'no-stream') return actual === 0;
  return expected === actual;
}
