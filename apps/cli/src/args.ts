/** Parsing and checking of command-line values. */
import { readFileSync } from 'node:fs';
import { UsageError } from './ops-client';

/**
 * Thrown from an option parser: commander prints `error: option '--count <n>' argument 'x' is
 * invalid. <message>` and exits 1. (Recognised by its code, so it works with nest-commander's
 * own copy of commander.)
 */
export class InvalidArgumentError extends Error {
  readonly code = 'commander.invalidArgument';
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('Expected a whole number of 1 or more.');
  return n;
}

/** Options that may be repeated (`--id a --id b`) or list several values (`--id a b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const STREAM_ID = /^(\d+)(?:-(\d+))?$/;
const MAX_SEQ = 18446744073709551615n;

export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

/** The ISO 8601 forms the operations API accepts: a date, or a date and time with an optional zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

export function isIsoTime(value: string): boolean {
  return ISO_TIME.test(value) && Number.isFinite(Date.parse(value));
}

/** A stream id or an ISO 8601 time, as `--from` / `--to` take; otherwise an invalid argument. */
export function streamPosition(value: string): string {
  const v = value.trim();
  if (isStreamId(v) || isIsoTime(v)) return v;
  throw new InvalidArgumentError('Expected a stream id (1714557600000-0) or an ISO 8601 time (2024-05-01T10:00:00Z).');
}

/**
 * The exclusive cursor to start reading at `from` (a stream id, included, or an ISO time: its
 * first entry); undefined for the very beginning.
 */
export function cursorBefore(from: string): string | undefined {
  const v = from.trim();
  const match = STREAM_ID.exec(v);
  let ms: bigint;
  let seq: bigint;
  if (match) {
    ms = BigInt(match[1]);
    seq = BigInt(match[2] ?? '0');
  } else {
    const parsed = isIsoTime(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(parsed)) throw new UsageError(`--from "${from}" is neither a stream id nor an ISO 8601 time`);
    ms = BigInt(Math.max(0, parsed));
    seq = 0n;
  }
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  if (ms > 0n) return `${ms - 1n}-${MAX_SEQ}`;
  return undefined;
}

/** `--data`: JSON text, `@file.json`, or `@-` for stdin. */
export function readData(raw: string, readStdin: () => string = () => readFileSync(0, 'utf8')): unknown {
  let text = raw;
  let from = '--data';
  if (raw.startsWith('@')) {
    const path = raw.slice(1);
    from = path === '-' ? 'stdin' : path;
    try {
      text = path === '-' ? readStdin() : readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read --data ${raw}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${from} is not valid JSON: ${(error as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new UsageError(`${from} must be a JSON object (the event's payload), e.g. '{"orderId":"ORD-7701"}'`);
  return data;
}

/** `--url`, else PLATFORM_URL, else the default. */
export function resolveUrl(option: string | undefined, env: NodeJS.ProcessEnv, fallback: string): string {
  return option || env.PLATFORM_URL || fallback;
}
