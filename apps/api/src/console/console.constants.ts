/** The session cookie: an opaque random id, HttpOnly, SameSite=Strict, Path=/. */
export const SESSION_COOKIE = 'console_session';
/**
 * The header every cookie-authenticated write must carry (any value): a page on another site
 * cannot send it without a CORS preflight, which the platform never grants.
 */
export const CSRF_HEADER = 'x-console-csrf';
/** `ServiceStore` name of the console's keys (`<ns>:svc:console:...`). */
export const CONSOLE_SERVICE = 'console';
/** Where the console is served. */
export const CONSOLE_PATH = '/console';
