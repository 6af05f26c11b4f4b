/** `[k1, v1, k2, v2, ...]` (XINFO replies, entry fields) as an object. */
export { pairsToRecord as toRecord } from '@nest-streams/event-bus/utils/pairs';

/** ISO time of a stream id's milliseconds. */
export function idTime(id: string | null | undefined): string | null {
  if (!id) return null;
  const ms = Number(id.split('-')[0]);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** A Redis number reply that may be nil (`lag` when Redis cannot tell). */
export function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
