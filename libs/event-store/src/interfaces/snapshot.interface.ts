/** A snapshot as stored in `<ns>:es:{<stream>}:snapshot`. */
export interface StoredSnapshot {
  /** The state, as the decider's `toSnapshot` made it. */
  state: unknown;
  /** Version of the last event folded into it. */
  version: number;
  /** The decider's `snapshot.schemaVersion` when it was written. */
  schemaVersion: number;
  /** Time of the event at `version`. */
  time?: string;
  writtenAt: string;
}

/** `written`, or `kept` when the stored snapshot is already at or past that version (same schema). */
export type SnapshotWriteResult = 'written' | 'kept';
