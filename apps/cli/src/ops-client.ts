/** A fetch-based client of the platform's operations API (`/ops`), with its error mapping. */

/** The platform's error body (Nest's HttpException shape, plus validation details). */
export interface OpsErrorBody {
  statusCode: number;
  error?: string;
  message?: string | string[];
  details?: { field: string; messages: string[] }[];
}

/** Something the user asked for that cannot work: exit code 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The platform answered with a 4xx or 5xx. */
export class OpsHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: OpsErrorBody,
    readonly method: string,
    readonly url: string,
    /** From `Retry-After` (429, 503), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(`${status} ${body.error ?? ''}: ${messageText(body.message)}`);
    this.name = 'OpsHttpError';
  }
}

/** The platform could not be reached, or did not answer in time. */
export class OpsConnectionError extends Error {
  constructor(
    readonly baseUrl: string,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'OpsConnectionError';
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  /** @default 30000 */
  timeoutMs?: number;
}

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export class OpsClient {
  readonly baseUrl: string;
  private readonly apiKey?: string;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.apiKey = options.apiKey || undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }

  post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>('POST', path, { body, signal });
  }

  delete<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('DELETE', path, { signal });
  }

  /** `base + path + ?query`, leaving out undefined and empty query values. */
  url(path: string, query?: Query): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') search.set(key, String(value));
    }
    const qs = search.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  private async request<T>(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; signal?: AbortSignal },
  ): Promise<T> {
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey) headers['x-api-key'] = this.apiKey;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal,
      });
      text = await response.text();
    } catch (error) {
      // NOTE: an abort the caller asked for (Ctrl-C) is not a network failure; let it through as is.
      if (opts.signal?.aborted) throw error;
      if (timeout.aborted)
        throw new OpsConnectionError(
          this.baseUrl,
          'ETIMEDOUT',
          `no answer from ${this.baseUrl} within ${this.timeoutMs / 1000}s (${method} ${path})`,
        );
      throw toConnectionError(this.baseUrl, error);
    }

    const parsed = parseJson(text);
    if (!response.ok)
      throw new OpsHttpError(
        response.status,
        errorBody(response, parsed, text),
        method,
        url,
        retryAfter(retryAfterHeader(response.headers)),
      );
    return parsed as T;
  }
}

/** `--url` as given, checked and without a trailing slash. */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url "${raw}" is not a URL (expected e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--url "${raw}" must be an http:// or https:// URL`);
  return url.toString().replace(/\/+$/, '');
}

/** One path segment, encoded (stream and group names may hold ':' or '/'). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

export function messageText(message: string | string[] | undefined): string {
  if (Array.isArray(message)) return message.join('; ');
  return message ?? '';
}

/** `Retry-After`, or a named throttler's `Retry-After-<name>` (@nestjs/throttler). */
function retryAfterHeader(headers: Headers): string | null {
  for (const [name, value] of headers) if (name === 'retry-after' || name.startsWith('retry-after-')) return value;
  return null;
}

/** `Retry-After` in seconds or as an HTTP date, in ms. */
export function retryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** Whether a poll should wait and try again rather than give up (rate limited). */
export function isRateLimited(error: unknown): error is OpsHttpError {
  return error instanceof OpsHttpError && error.status === 429;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorBody(response: Response, parsed: unknown, text: string): OpsErrorBody {
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const body = parsed as Partial<OpsErrorBody>;
    return {
      statusCode: typeof body.statusCode === 'number' ? body.statusCode : response.status,
      error: typeof body.error === 'string' ? body.error : response.statusText,
      message: typeof body.message === 'string' || Array.isArray(body.message) ? body.message : undefined,
      details: Array.isArray(body.details) ? body.details : undefined,
    };
  }
  // NOTE: not our API answering (a proxy, or a platform without /ops): show the start of what it said.
  const snippet = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
  return { statusCode: response.status, error: response.statusText, message: snippet || undefined };
}

function toConnectionError(baseUrl: string, error: unknown): OpsConnectionError {
  const code = errorCode(error);
  if (code === 'ECONNREFUSED')
    return new OpsConnectionError(
      baseUrl,
      code,
      `cannot connect to ${baseUrl} (connection refused): is the platform running at ${baseUrl}?`,
    );
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new OpsConnectionError(
      baseUrl,
      code,
      `cannot resolve the host of ${baseUrl} (${code}): check --url or PLATFORM_URL`,
    );
  const cause =
    error instanceof Error && error.cause instanceof Error
      ? error.cause.message
      : error instanceof Error
        ? error.message
        : String(error);
  return new OpsConnectionError(
    baseUrl,
    code ?? 'EUNKNOWN',
    `request to ${baseUrl} failed (${code ?? cause}): is the platform running at ${baseUrl}?`,
  );
}

/** The system error code under fetch's "fetch failed" (possibly inside an AggregateError). */
function errorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const stack: unknown[] = [error];
  while (stack.length > 0) {
    const current = stack.pop();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const { code, cause, errors } = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    if (cause) stack.push(cause);
    if (Array.isArray(errors)) stack.push(...errors);
  }
  return undefined;
}
