/** The transport's id: `@EventPattern(pattern, REDIS_STREAMS_TRANSPORT)` binds a handler to this transport only. */
export const REDIS_STREAMS_TRANSPORT = Symbol('REDIS_STREAMS');

/**
 * The key a non-object payload travels under: the platform's `data` is always a JSON object, so
 * `emit('notification', true)` writes `{ "@value": true }` and the handler receives `true`.
 */
export const VALUE_KEY = '@value';

/** The CloudEvents `source` of events the transport's client emits, unless set. */
export const DEFAULT_CLIENT_SOURCE = 'nest-client';

/** How long `send()` waits for a complete reply, unless set. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
