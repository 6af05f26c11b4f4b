import { Injectable } from '@nestjs/common';
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

/** Replays and group moves, for recovery. Long replays report progress and can be cancelled. */
@Injectable()
export class ReplayService {
  constructor(private readonly core: EventBusCore) {}

  async run(req: ReplayRequest, opts: ReplayOptions = {}): Promise<ReplayResult> {
    const key = this.core.keys.stream(req.stream);
    const start = rangeBound(req.from, 'start');
    const end = rangeBound(req.to, 'end');
    const { kind, group } = req.target;
    if (kind === 'position') {
      const to = req.from === undefined ? { id: '0-0' } : isStreamId(req.from) ? { id: req.from } : { time: req.from };
      const moved = await this.moveGroup(req.stream, group, to, { dryRun: req.dryRun });
      return { total: moved.redeliver, done: req.dryRun ? 0 : moved.redeliver, cancelled: false };
    }
    const total = await countRange(this.core.redis, key, start, end);
    await opts.onProgress?.({ done: 0, total });
    if (req.dryRun) return { total, done: 0, cancelled: false };
    if (kind === 'new-group') {
      const at = start === '-' ? '0' : previousId(start);
      await this.core.redis.xgroup('CREATE', key, group, at, 'MKSTREAM');
      await opts.onProgress?.({ done: total, total });
      return { total, done: total, cancelled: false };
    }
    const target = this.core.keys.replay(req.stream, group);
    await this.core.redis.xgroup('CREATE', target, group, '0', 'MKSTREAM').catch((error: unknown) => {
      if (!String(error).includes('BUSYGROUP')) throw error;
    });
    return this.copy(key, target, start, end, total, req, opts);
  }

  /**
   * Moves a group's last-delivered id to `id`, or to just before `time` (entries at or after it
   * are delivered again). Returns the id set and how many entries follow it.
   */
  async moveGroup(stream: string, group: string, to: { id?: string; time?: string }, opts: { dryRun?: boolean } = {}): Promise<{ lastDeliveredId: string; redeliver: number }> {
    const key = this.core.keys.stream(stream);
    let id: string;
    if (to.id !== undefined) id = to.id;
    else if (to.time !== undefined) {
      const ms = Date.parse(to.time);
      if (!Number.isFinite(ms)) throw new RangeError(`"${to.time}" is not an ISO 8601 time`);
      id = idBeforeTime(ms);
    } else throw new RangeError('moveGroup needs an id or a time');
    const redeliver = await countRange(this.core.redis, key, `(${id}`, '+');
    if (!opts.dryRun) {
      await this.releasePendingClaims(stream, group, id);
      await this.core.redis.xgroup('SETID', key, group, id);
    }
    return { lastDeliveredId: id, redeliver };
  }

  /**
   * Releases the dedupe claims of the entries after `after` still pending in the group: after the
   * move they are delivered as new, and the guard skips an entry's own claim on a first delivery
   * as handled (a group moved back over what it did). Bounded by the group's pending list.
   */
  private async releasePendingClaims(stream: string, group: string, after: string): Promise<void> {
    const { redis, keys } = this.core;
    const key = keys.stream(stream);
    let cursor = `(${after}`;
    for (;;) {
      const rows = (await redis.xpending(key, group, cursor, '+', PAGE).catch(() => [])) as Array<[string, string, number, number]>;
      if (rows.length === 0) return;
      const reads = await rows.reduce((p, [id]) => p.xrange(key, id, id), redis.pipeline()).exec();
      const entries = (reads ?? []).map(([, entry]) => entry as Array<[string, string[]]> | null).filter((e) => e && e.length > 0) as Array<Array<[string, string[]]>>;
      const pipeline = redis.pipeline();
      for (const [[entryId, fields]] of entries) {
        const claim = claimOfEntry(keys, stream, group, 'live', entryId, fields);
        if (claim) queueReleaseClaim(pipeline, claim);
      }
      await pipeline.exec();
      if (rows.length < PAGE) return;
      cursor = `(${rows[rows.length - 1][0]}`;
    }
  }

  private async copy(key: string, target: string, start: string, end: string, total: number, req: ReplayRequest, opts: ReplayOptions): Promise<ReplayResult> {
    const began = Date.now();
    let done = 0;
    let cursor = start;
    for (;;) {
      if (opts.signal?.aborted) return { total, done, cancelled: true };
      const room = req.ratePerSec ? Math.max(1, Math.min(PAGE, Math.ceil(req.ratePerSec / 10))) : PAGE;
      const page = await this.core.redis.xrange(key, cursor, end, 'COUNT', room);
      if (page.length === 0) break;
      const pipeline = this.core.redis.pipeline();
      for (const [, fields] of page) pipeline.xadd(target, '*', ...fields, ...(req.bypassDedupe ? [BYPASS_DEDUPE_FIELD, '1'] : []));
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('replay write was discarded');
      done += page.length;
      await opts.onProgress?.({ done, total: Math.max(total, done) });
      cursor = `(${page[page.length - 1][0]}`;
      if (page.length < room) break;
      if (req.ratePerSec) {
        const ahead = (done / req.ratePerSec) * 1000 - (Date.now() - began);
        if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
      }
    }
    return { total: Math.max(total, done), done, cancelled: false };
  }
}
