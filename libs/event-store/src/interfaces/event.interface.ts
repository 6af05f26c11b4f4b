/** What travels with an event besides its data. `correlationId` / `causationId` tie it to the flow that caused it. */
export interface EventMetadata {
  /** Id shared by every event of one business flow. */
  correlationId?: string;
  /** Id of the request, command or event that caused this one. */
  causationId?: string;
  [key: string]: unknown;
}

/** An event to append: plain typed data (`type` is a past-tense fact, `data` its JSON payload). */
export interface Event<Type extends string = string, Data extends object = object> {
  type: Type;
  data: Data;
  metadata?: EventMetadata;
}

/** Where a recorded event sits and when it was recorded. */
export interface RecordedPosition {
  streamName: string;
  /** 1-based position in its stream, which is also the stream's version right after it. */
  version: number;
  /** When the store recorded it: Redis server time, ISO 8601 UTC, never decreasing within a stream. */
  time: string;
  /** The Redis stream entry id, `0-<version>`. */
  entryId: string;
  metadata: EventMetadata;
}

/** An event as stored. Distributes over a union of events, so `switch (event.type)` still narrows `data`. */
export type RecordedEvent<E extends Event = Event> = E extends Event ? Omit<E, 'metadata'> & RecordedPosition : never;
