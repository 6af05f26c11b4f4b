import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Level } from 'pino';
import type { Options } from 'pino-http';

/** The header a request id comes in with (kept when it looks sane) and goes out with. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Paths whose requests are not logged: probes and scrapes, several a second. */
const QUIET_PATHS = /^\/(?:health|metrics)(?:[/?]|$)/;
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Headers that never reach a log line. */
export const REDACTED_PATHS = ['req.headers["x-api-key"]', 'req.headers.authorization', 'req.headers.cookie'];

/**
 * pino-http options: one line per request (none for /health and /metrics) at info, warn for 4xx,
 * error for 5xx, with the request id (`x-request-id` when the caller sent a sane one, else a
 * UUID) on that line, on every line logged while the request is handled and on the response.
 */
export function httpLogOptions(): Options {
  return {
    genReqId: requestId,
    quietReqLogger: true,
    // NOTE: the response's headers are the same security headers on every line: only the status is kept.
    serializers: { res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }) },
    autoLogging: { ignore: (req) => QUIET_PATHS.test(path(req)) },
    customLogLevel: (_req, res, error): Level =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    customSuccessMessage: (req, res, ms) => `${req.method} ${path(req)} ${res.statusCode} ${ms} ms`,
    customErrorMessage: (req, res, error) => `${req.method} ${path(req)} ${res.statusCode} failed: ${error.message}`,
  };
}

/** The path as requested: Express rewrites `req.url` below a mount point, not `originalUrl`. */
function path(req: IncomingMessage): string {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
}

function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const id = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}
