/** A state loaded from a stream (a snapshot, if usable, plus the events after it). */
export interface LoadedState<State> {
  state: State;
  /** Version of the last event applied; 0 when none was (the stream is empty, or `asOf` is before it). */
  version: number;
  /** Time of the last event applied. */
  time?: string;
  /** Version of the snapshot the load started from; undefined when it replayed from the first event. */
  snapshotVersion?: number;
  /** Events applied on top of the snapshot (or of the initial state). */
  eventsApplied: number;
}
