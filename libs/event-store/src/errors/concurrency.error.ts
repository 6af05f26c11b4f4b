import { CONCURRENCY } from '../event-store.messages';
import type { ExpectedVersion } from '../interfaces/append.interface';

/** An append's expected version did not match the stream's: nothing was written. Reload and retry. */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamName: string,
    readonly expectedVersion: ExpectedVersion,
    readonly actualVersion: number,
  ) {
    super(CONCURRENCY(streamName, expectedVersion, actualVersion));
    this.name = 'ConcurrencyError';
  }
}
