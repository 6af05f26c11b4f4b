export interface ReadForwardOptions {
  /** First version to read (inclusive). @default 1 */
  from?: number;
  /** Last version to read (inclusive). @default the end of the stream */
  to?: number;
  /** At most this many events. @default no limit */
  count?: number;
}

export interface ReadBackwardOptions {
  /** First version to read, going back (inclusive). @default the last event */
  from?: number;
  /** At most this many events. @default no limit */
  count?: number;
}

/** Where to stop when loading a state: at a version, or at the last event recorded at or before a time. */
export interface AsOf {
  /** Apply events up to this version (inclusive). */
  asOfVersion?: number;
  /** Apply events recorded at or before this time (ISO 8601, or a Date). */
  asOfTime?: string | Date;
}
