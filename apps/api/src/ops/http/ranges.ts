import { STREAM_ID_PATTERN } from '../ops.constants';

/** XRANGE start of a stream id or ISO time (inclusive); `-` when absent. */
export function rangeStart(value: string | undefined): string {
  if (!value) return '-';
  return STREAM_ID_PATTERN.test(value) ? value : `${Date.parse(value)}-0`;
}

/** XRANGE end of a stream id or ISO time (inclusive: every entry of that millisecond); `+` when absent. */
export function rangeEnd(value: string | undefined): string {
  if (!value) return '+';
  // NOTE: an id without sequence as an end means its last sequence, in Redis too.
  return STREAM_ID_PATTERN.test(value) ? value : String(Date.parse(value));
}
