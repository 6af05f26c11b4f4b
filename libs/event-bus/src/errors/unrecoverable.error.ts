/**
 * Thrown by a handler for a failure that no retry can heal (a payload the business rejects, a
 * referenced entity that will never exist): the entry is dead-lettered at once, with this error's
 * `reason` and message, instead of spending every attempt of the retry policy.
 */
export class UnrecoverableError extends Error {
  constructor(
    message: string,
    /** The dead letter's `reason`. @default 'unrecoverable' */
    readonly reason = 'unrecoverable',
  ) {
    super(message);
    this.name = 'UnrecoverableError';
  }
}
