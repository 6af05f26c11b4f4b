/** Redis did not take the event; it may or may not be in the stream, and its id is kept so a retry dedupes. */
export class PublishFailedError extends Error {
  constructor(
    readonly eventIds: string[],
    override readonly cause: unknown,
  ) {
    super(
      `publishing ${eventIds.length} event(s) failed (${cause instanceof Error ? cause.message : String(cause)}): ` +
        'check that Redis is reachable; retrying with the same event ids is safe (consumers dedupe by id)',
    );
    this.name = 'PublishFailedError';
  }
}
