import { createHash } from 'node:crypto';
import type { PatternRoute } from './pattern-route';
import { VALUE_KEY } from './redis-streams.constants';

const NAME = /^[A-Za-z0-9._:-]{1,180}$/;

/** What every request stream's name starts with. */
export const REQUEST_STREAM_PREFIX = 'rpc.';

/**
 * Where the requests of a `@MessagePattern` go: the stream `rpc.<pattern>` (type the same), read by
 * the groups that serve the pattern. A pattern that is not a valid name (an object's JSON, say
 * `{"cmd":"sum"}`) becomes `rpc.<it, other characters as _>-<8 hex of its SHA-1>`: `rpc._cmd_:_sum_-8ecef3d9`.
 */
export function requestRouteOf(pattern: string): PatternRoute {
  const name = NAME.test(pattern)
    ? pattern
    : `${pattern.replace(/[^A-Za-z0-9._:-]+/g, '_').slice(0, 100)}-${createHash('sha1').update(pattern).digest('hex').slice(0, 8)}`;
  const stream = `${REQUEST_STREAM_PREFIX}${name}`;
  return { stream, type: stream };
}

/** The `data` of a request entry: the payload, where to reply, and until when the caller waits. */
export interface RequestData {
  [VALUE_KEY]: unknown;
  '@replyto': string;
  /** Epoch ms after which the caller no longer waits: the request is not run. */
  '@deadline': number;
}

export function isRequestData(data: unknown): data is RequestData {
  return data !== null && typeof data === 'object' && typeof (data as RequestData)['@replyto'] === 'string';
}

/** The reply stream of one client instance: read by that instance only (plain XREAD), trimmed and expiring. */
export function replyStreamKey(namespace: string, clientId: string): string {
  return `${namespace}:rpc-reply:${clientId}`;
}

/** Replies kept per reply stream (approximately) and how long an unread one lives. */
export const REPLY_STREAM_MAXLEN = 1_000;
export const REPLY_STREAM_TTL_MS = 60_000;
