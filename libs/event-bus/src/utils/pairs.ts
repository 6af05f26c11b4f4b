/** `[k1, v1, k2, v2, ...]` (entry fields, XINFO rows, HGETALL-style replies) as an object. */
export function pairsToRecord<T = unknown>(flat: readonly unknown[]): Record<string, T> {
  const record: Record<string, T> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = flat[i + 1] as T;
  return record;
}
