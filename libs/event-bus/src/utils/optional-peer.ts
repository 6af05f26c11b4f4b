/**
 * Optional peer dependencies (prom-client, @opentelemetry/api): loaded on first use, never at
 * import time, so an application that has not installed them neither needs nor loads them.
 * Callers pass a `load` thunk with a literal `require('<name>')` so bundlers still see the import.
 */

const missing = new Set<string>();

/** `load()` (a `require` of the optional peer `name`); undefined when the application has not installed it. */
export function optionalPeer<T>(name: string, load: () => unknown): T | undefined {
  if (missing.has(name)) return undefined;
  try {
    return load() as T;
  } catch (error) {
    if (!notFound(error, name)) throw error;
    missing.add(name);
    return undefined;
  }
}

/** `load()` of the optional peer `name`; when it is not installed, throws with `hint` (what needs it, how to do without). */
export function requiredPeer<T>(name: string, load: () => unknown, hint: string): T {
  const peer = optionalPeer<T>(name, load);
  if (peer === undefined)
    throw new Error(`${name} is not installed (an optional peer dependency of @nest-streams/event-bus): ${hint}`);
  return peer;
}

/** Whether `error` says that `name` itself (not something it requires) cannot be found. */
function notFound(error: unknown, name: string): boolean {
  return (
    (error as NodeJS.ErrnoException | undefined)?.code === 'MODULE_NOT_FOUND' &&
    String((error as Error).message).includes(`'${name}'`)
  );
}
