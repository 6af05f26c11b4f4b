import { pairsToRecord } from '../utils/pairs';
import type Redis from 'ioredis';
import type { Logger } from '@nestjs/common';
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
    const [next, entries, gone] = (await redis.xautoclaim(source.key, group, consumer, minIdleMs, cursor, 'COUNT', Math.min(100, limit - claimed.length))) as AutoClaimReply;
    for (const [entryId, fields] of entries) if (fields) claimed.push({ source, entryId, fields });
    deleted += gone?.length ?? 0;
    cursor = next;
  } while (cursor !== '0-0' && claimed.length < limit);
  return { claimed, deleted };
}

/** Removes consumers of the group that own no entries and have been idle for `idleMs` (never `self`). */
export async function removeDeadConsumers(redis: Redis, key: string, group: string, self: string, idleMs: number, logger: Logger): Promise<number> {
  const rows = (await redis.xinfo('CONSUMERS', key, group)) as Array<Array<string | number>>;
  let removed = 0;
  for (const row of rows) {
    const info = pairsToRecord<string | number>(row);
    if (info.name === self || Number(info.pending) > 0 || Number(info.idle) < idleMs) continue;
    await redis.xgroup('DELCONSUMER', key, group, String(info.name));
    logger.log(`[group ${group}] removed consumer ${info.name} (idle ${info.idle} ms, nothing pending)`);
    removed++;
  }
  return removed;
}
