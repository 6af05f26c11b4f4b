import { SNAPSHOT_AHEAD } from '../event-store.messages';

/** A snapshot claimed a version the stream has not reached; it was not written. */
export class SnapshotAheadOfStreamError extends Error {
  constructor(
    readonly streamName: string,
    readonly snapshotVersion: number,
    readonly streamVersion: number,
  ) {
    super(SNAPSHOT_AHEAD(streamName, snapshotVersion, streamVersion));
    this.name = 'SnapshotAheadOfStreamError';
  }
}
