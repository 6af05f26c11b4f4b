import type Redis from 'ioredis';
import type { Logger } from '@nestjs/common';
import { removeIdleConsumers } from './consumer-scripts';
import type { Source } from './delivery';

type AutoClaimReply = [cursor: string, entries: Array<[id: string, fields: string[] | null]>, deleted?: string[]];

export interface ClaimedEntry {
  source: Source;
  entryId: string;
  fields: string[];
}

/**
 * XAUTOCLAIM of entries idle longer than `minIdleMs` in any consumer of the group (a dead
 * instance's, or our own after a lost XACK), up to `limit`. Entries deleted while pending
 * (Redis 7 drops them from the pending list and reports them) are counted in `deleted`.
 */
export async function claimIdle(
  redis: Redis,
  source: Source,
  group: string,
  consumer: string,
  minIdleMs: number,
  limit: number,
): Promise<{ claimed: ClaimedEntry[]; deleted: number }> {
  const claimed: ClaimedEntry[] = [];
  let deleted = 0;
  let cursor = '0-0';
  do {
    const [next, entries, gone] = (await redis.xautoclaim(
      source.key,
      group,
      consumer,
      minIdleMs,
      cursor,
      'COUNT',
      Math.min(100, limit - claimed.length),
    )) as AutoClaimReply;
    for (const [entryId, fields] of entries) if (fields) claimed.push({ source, entryId, fields });
    deleted += gone?.length ?? 0;
    cursor = next;
  } while (cursor !== '0-0' && claimed.length < limit);
  return { claimed, deleted };
}

/** Removes consumers of the group that own no entries and have been idle for `idleMs` (never `self`), in one atomic step. */
export async function removeDeadConsumers(
  redis: Redis,
  key: string,
  group: string,
  self: string,
  idleMs: number,
  logger: Logger,
): Promise<number> {
  const removed = await removeIdleConsumers(redis, key, group, { keep: self, minIdleMs: idleMs });
  for (const r of removed)
    logger.log(`[group ${group}] removed consumer ${r.consumer} (idle ${r.count} ms, nothing pending)`);
  return removed.length;
}
