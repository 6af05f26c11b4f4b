/** Helpers for Redis stream ids (`<ms>-<seq>`). */

const MAX_SEQ = '18446744073709551615';
const ID = /^(\d+)(?:-(\d+))?$/;

/** -1, 0 or 1 as `a` is before, equal to or after `b`. */
export function compareIds(a: string, b: string): number {
  const [am, as] = split(a);
  const [bm, bs] = split(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/** The smallest id after `id`. */
export function nextId(id: string): string {
  const [ms, seq] = split(id);
  return seq === BigInt(MAX_SEQ) ? `${ms + 1n}-0` : `${ms}-${seq + 1n}`;
}

/** The largest id before `id`. */
export function previousId(id: string): string {
  const [ms, seq] = split(id);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms === 0n ? '0-0' : `${ms - 1n}-${MAX_SEQ}`;
}

/** The largest id before `<ms>-0`: entries at or after that time come after it. */
export function idBeforeTime(ms: number): string {
  return ms <= 0 ? '0-0' : `${ms - 1}-${MAX_SEQ}`;
}

/**
 * A range bound from a stream id or an ISO 8601 time; undefined stays open (`-` / `+`). A time
 * as `start` means from its first entry, as `end` through its last.
 */
export function rangeBound(value: string | undefined, side: 'start' | 'end'): string {
  if (value === undefined || value === '') return side === 'start' ? '-' : '+';
  if (ID.test(value)) return value;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError(`"${value}" is neither a stream id (<ms>-<seq>) nor an ISO 8601 time`);
  return side === 'start' ? `${ms}-0` : `${ms}-${MAX_SEQ}`;
}

/** Whether a string is a stream id. */
export function isStreamId(value: string): boolean {
  return ID.test(value);
}

function split(id: string): [bigint, bigint] {
  const match = ID.exec(id);
  if (!match) throw new RangeError(`"${id}" is not a stream id`);
  return [BigInt(match[1]), BigInt(match[2] ?? '0')];
}
