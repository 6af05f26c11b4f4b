import { Injectable } from '@nestjs/common';
import { withConsumerScripts } from '../consumer/consumer-scripts';
import { claimOfEntry, queueReleaseClaim } from '../consumer/dedupe.guard';
import { BYPASS_DEDUPE_FIELD } from '../consumer/delivery';
import { EventBusCore } from '../event-bus.core';
import { idBeforeTime, isStreamId, previousId, rangeBound } from '../utils/stream-ids';
import { countRange } from '../utils/stream-range';

/** What to replay, and to whom (docs/contract.md section 3). */
export interface ReplayRequest {
  stream: string;
  /** Stream id or ISO 8601 time; absent = the start of the stream. */
  from?: string;
  /** Stream id or ISO 8601 time, inclusive; absent = the end of the stream. */
  to?: string;
  /**
   * `handlers`: copy the range to the group's replay stream; only its handlers see it (`ctx.replay`),
   * its position does not move. `position`: move the group back (or forward) to `from`.
   * `new-group`: create the group at `from` (a new projection built from there).
   */
  target: { kind: 'handlers' | 'position' | 'new-group'; group: string };
  /** Count only. @default false */
  dryRun?: boolean;
  /** Events per second, for `handlers`. @default unlimited */
  ratePerSec?: number;
  /** For `handlers`: run even events the group's dedupe guard remembers as handled. @default false */
  bypassDedupe?: boolean;
}

export interface ReplayResult {
  total: number;
  done: number;
  cancelled: boolean;
}

export interface ReplayOptions {
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number }) => void | Promise<void>;
}

const PAGE = 500;

/** How far a replay has copied, over all partitions: for its rate limit and progress. */
interface CopyState {
  began: number;
  done: number;
  total: number;
}

/**
 * Replays and group moves, for recovery. Long replays report progress and can be cancelled.
 *
 * With partitioned streams each partition is replayed (or its group moved) on its own and the
 * progress is summed. A time applies as is on every partition. A bare id (`<ms>-<seq>`) as a
 * range bound applies its ms part on every partition (`from`: from the first entry of that ms,
 * `to`: through its last), since entry ids of different partitions are independent; as a group
 * position it is set as is on every partition.
 */
@Injectable()
export class ReplayService {
  constructor(private readonly core: EventBusCore) {}

  async run(req: ReplayRequest, opts: ReplayOptions = {}): Promise<ReplayResult> {
    const { redis, keys } = this.core;
    const start = this.bound(req.from, 'start');
    const end = this.bound(req.to, 'end');
    const { kind, group } = req.target;
    if (kind === 'position') {
      const to = req.from === undefined ? { id: '0-0' } : isStreamId(req.from) ? { id: req.from } : { time: req.from };
      const moved = await this.moveGroup(req.stream, group, to, { dryRun: req.dryRun });
      return { total: moved.redeliver, done: req.dryRun ? 0 : moved.redeliver, cancelled: false };
    }
    const counts = await Promise.all(keys.all.map((k) => countRange(redis, keys.stream(req.stream, k), start, end)));
    const total = counts.reduce((sum, n) => sum + n, 0);
    await opts.onProgress?.({ done: 0, total });
    if (req.dryRun) return { total, done: 0, cancelled: false };
    if (kind === 'new-group') {
      const at = start === '-' ? '0' : previousId(start);
      // NOTE: one XGROUP per partition: their keys may live on different cluster nodes.
      await Promise.all(
        keys.all.map((k) =>
          withConsumerScripts(redis).xgroupOf(keys.stream(req.stream, k), 'CREATE', group, at, 'MKSTREAM'),
        ),
      );
      await opts.onProgress?.({ done: total, total });
      return { total, done: total, cancelled: false };
    }
    await Promise.all(
      keys.all.map((k) =>
        withConsumerScripts(redis)
          .xgroupOf(keys.replay(req.stream, group, k), 'CREATE', group, '0', 'MKSTREAM')
          .catch((error: unknown) => {
            if (!String(error).includes('BUSYGROUP')) throw error;
          }),
      ),
    );
    const state: CopyState = { began: Date.now(), done: 0, total };
    // NOTE: partition by partition, so that the rate limit holds for the replay as a whole.
    for (const k of keys.all) {
      const cancelled = await this.copy(
        keys.stream(req.stream, k),
        keys.replay(req.stream, group, k),
        start,
        end,
        state,
        req,
        opts,
      );
      if (cancelled) return { total: state.total, done: state.done, cancelled: true };
    }
    return { total: state.total, done: state.done, cancelled: false };
  }

  /**
   * Moves a group's last-delivered id to `id`, or to just before `time` (entries at or after it
   * are delivered again); with partitioned streams on every partition (a partition that lacks
   * the group gets it there, unless no partition has it). Returns the id set and how many entries
   * follow it (summed over the partitions).
   */
  async moveGroup(
    stream: string,
    group: string,
    to: { id?: string; time?: string },
    opts: { dryRun?: boolean } = {},
  ): Promise<{ lastDeliveredId: string; redeliver: number }> {
    const { redis, keys } = this.core;
    let id: string;
    if (to.id !== undefined) id = to.id;
    else if (to.time !== undefined) {
      const ms = Date.parse(to.time);
      if (!Number.isFinite(ms)) throw new RangeError(`"${to.time}" is not an ISO 8601 time`);
      id = idBeforeTime(ms);
    } else throw new RangeError('moveGroup needs an id or a time');
    const counts = await Promise.all(keys.all.map((k) => countRange(redis, keys.stream(stream, k), `(${id}`, '+')));
    const redeliver = counts.reduce((sum, n) => sum + n, 0);
    if (!opts.dryRun) {
      if (!keys.partitioned) {
        await this.releasePendingClaims(stream, group, id, 0);
        await withConsumerScripts(redis).xgroupOf(keys.stream(stream), 'SETID', group, id);
      } else {
        await this.movePartitions(stream, group, id);
      }
    }
    return { lastDeliveredId: id, redeliver };
  }

  /** XGROUP SETID on every partition (claims released first); CREATE at the id where the group is missing. */
  private async movePartitions(stream: string, group: string, id: string): Promise<void> {
    const { redis, keys } = this.core;
    await Promise.all(keys.all.map((k) => this.releasePendingClaims(stream, group, id, k)));
    const missing: number[] = [];
    let noGroup: unknown;
    await Promise.all(
      keys.all.map((k) =>
        withConsumerScripts(redis)
          .xgroupOf(keys.stream(stream, k), 'SETID', group, id)
          .catch((error: unknown) => {
            if (!/NOGROUP|no such key/i.test(String(error))) throw error;
            missing.push(k);
            noGroup = error;
          }),
      ),
    );
    if (missing.length === keys.partitions) throw noGroup;
    await Promise.all(
      missing.map((k) =>
        withConsumerScripts(redis)
          .xgroupOf(keys.stream(stream, k), 'CREATE', group, id, 'MKSTREAM')
          .catch(async (error: unknown) => {
            // NOTE: a consumer of the group created it there meanwhile: move it too.
            if (!String(error).includes('BUSYGROUP')) throw error;
            await withConsumerScripts(redis).xgroupOf(keys.stream(stream, k), 'SETID', group, id);
          }),
      ),
    );
  }

  /**
   * Releases the dedupe claims of the entries after `after` still pending in the group on
   * partition `k`: after the move they are delivered as new, and the guard skips an entry's own
   * claim on a first delivery as handled (a group moved back over what it did). Bounded by the
   * group's pending list.
   */
  private async releasePendingClaims(stream: string, group: string, after: string, k: number): Promise<void> {
    const { redis, keys } = this.core;
    const key = keys.stream(stream, k);
    let cursor = `(${after}`;
    for (;;) {
      const rows = (await redis.xpending(key, group, cursor, '+', PAGE).catch(() => [])) as Array<
        [string, string, number, number]
      >;
      if (rows.length === 0) return;
      const reads = await rows.reduce((p, [id]) => p.xrange(key, id, id), redis.pipeline()).exec();
      const entries = (reads ?? [])
        .map(([, entry]) => entry as Array<[string, string[]]> | null)
        .filter((e) => e && e.length > 0) as Array<Array<[string, string[]]>>;
      const pipeline = redis.pipeline();
      for (const [[entryId, fields]] of entries) {
        const claim = claimOfEntry(keys, stream, group, 'live', entryId, fields, k);
        if (claim) queueReleaseClaim(pipeline, claim);
      }
      await pipeline.exec();
      if (rows.length < PAGE) return;
      cursor = `(${rows[rows.length - 1][0]}`;
    }
  }

  /** An XRANGE bound of every partition: see the class comment for ids on partitioned streams. */
  private bound(value: string | undefined, side: 'start' | 'end'): string {
    const bound = rangeBound(value, side);
    if (!this.core.keys.partitioned || value === undefined || !isStreamId(value)) return bound;
    // NOTE: XRANGE reads a bare <ms> as <ms>-0 for a start and <ms>-<max> for an end.
    return bound.split('-')[0];
  }

  /** Copies [start, end] of one partition to its replay stream; true when cancelled. */
  private async copy(
    key: string,
    target: string,
    start: string,
    end: string,
    state: CopyState,
    req: ReplayRequest,
    opts: ReplayOptions,
  ): Promise<boolean> {
    let cursor = start;
    for (;;) {
      if (opts.signal?.aborted) return true;
      const room = req.ratePerSec ? Math.max(1, Math.min(PAGE, Math.ceil(req.ratePerSec / 10))) : PAGE;
      const page = await this.core.redis.xrange(key, cursor, end, 'COUNT', room);
      if (page.length === 0) break;
      const pipeline = this.core.redis.pipeline();
      for (const [, fields] of page)
        pipeline.xadd(target, '*', ...fields, ...(req.bypassDedupe ? [BYPASS_DEDUPE_FIELD, '1'] : []));
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('replay write was discarded');
      state.done += page.length;
      state.total = Math.max(state.total, state.done);
      await opts.onProgress?.({ done: state.done, total: state.total });
      cursor = `(${page[page.length - 1][0]}`;
      if (page.length < room) break;
      if (req.ratePerSec) {
        const ahead = (state.done / req.ratePerSec) * 1000 - (Date.now() - state.began);
        if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
      }
    }
    return false;
  }
}
