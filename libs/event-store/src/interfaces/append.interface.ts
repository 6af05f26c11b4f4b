import type { Event, EventMetadata, RecordedEvent } from './event.interface';

/**
 * The version a writer expects the stream to be at: a number (the count of its events; 0 is a
 * stream with no events), `'no-stream'` (same as 0: the stream must not exist yet) or `'any'`
 * (no check).
 */
export type ExpectedVersion = number | 'no-stream' | 'any';

export interface AppendOptions {
  /** Checked atomically with the write; a mismatch throws ConcurrencyError and writes nothing. @default 'any' */
  expectedVersion?: ExpectedVersion;
  /** Merged under each event's own metadata (e.g. `correlationId`, `causationId`). @default {} */
  metadata?: EventMetadata;
}

export interface AppendResult<E extends Event = Event> {
  /** The stream's version after the append (its new event count). */
  version: number;
  /** The events as recorded, with their versions and time. */
  events: Array<RecordedEvent<E>>;
}
