/** A `send()` got no complete reply in time: no server of the pattern answered within `requestTimeoutMs`. */
export class RequestTimeoutError extends Error {
  constructor(
    readonly pattern: string,
    readonly timeoutMs: number,
  ) {
    super(
      `no reply to ${pattern} within ${timeoutMs} ms: check that a service serving it runs ` +
        '(the request is not run once its caller stopped waiting)',
    );
    this.name = 'RequestTimeoutError';
  }
}
