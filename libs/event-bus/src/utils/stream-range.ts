import type Redis from 'ioredis';

const PAGE = 5000;

/**
 * Entries of a stream in [start, end] (XRANGE bounds: ids, `-`, `+`, `(` for exclusive), counted
 * page by page so a large range is never held in memory at once. Redis 7.0 has no count by range.
 */
export async function countRange(redis: Redis, key: string, start: string, end: string): Promise<number> {
  let count = 0;
  let cursor = start;
  for (;;) {
    const page = await redis.xrange(key, cursor, end, 'COUNT', PAGE);
    count += page.length;
    if (page.length < PAGE) return count;
    cursor = `(${page[page.length - 1][0]}`;
  }
}
