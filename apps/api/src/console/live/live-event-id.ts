/** An entry id; the tail's positions are one of these per partition. */
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;

/**
 * Where a live stream stands, as the `id` of each of its messages (and so the browser's
 * `Last-Event-ID`): the time of the last sample sent, and with a tail, the id of the last entry
 * sent of each partition of the tailed stream: `<time>` or `<time>~<id>,<id>,...`.
 */
export interface LivePosition {
  time: number;
  /** One entry id per partition, in partition order; absent without a tail. */
  tail?: string[];
}

export function formatLiveId(position: LivePosition): string {
  return position.tail ? `${position.time}~${position.tail.join(',')}` : String(position.time);
}

/**
 * Reads a live id; undefined when it is malformed, or when its tail positions are not one per
 * partition (`partitions`) while a tail is asked for. A plain time with a tail asked for has no tail positions.
 */
export function parseLiveId(value: string, partitions: number): LivePosition | undefined {
  const [time, tail, ...rest] = value.split('~');
  if (rest.length > 0 || !/^\d{1,16}$/.test(time)) return undefined;
  if (tail === undefined) return { time: Number(time) };
  const ids = tail.split(',');
  if (ids.length !== partitions || !ids.every((id) => ENTRY_ID.test(id))) return undefined;
  return { time: Number(time), tail: ids };
}
