/**
 * What a failed `@EventPattern` handler left after the exception filters, as an Error for the
 * consumer's logs and dead letters: an Error as it is (so an `RpcException(new UnrecoverableError(...))`
 * still dead-letters at once), an RPC error object (`{ status, message }`) by its message.
 */
export function handlerError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (error !== null && typeof error === 'object') {
    const message = (error as { message?: unknown }).message;
    const failure = new Error(typeof message === 'string' ? message : safeJson(error));
    failure.cause = error;
    return failure;
  }
  return new Error(String(error));
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
