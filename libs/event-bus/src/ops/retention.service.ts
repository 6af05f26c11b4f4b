import { pairsToRecord } from '../utils/pairs';
import { withConsumerScripts } from '../consumer/consumer-scripts';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { contractRegistry } from '../contracts/contract-registry';
import { EventBusCore } from '../event-bus.core';
import { compareIds, nextId } from '../utils/stream-ids';
import { countRange } from '../utils/stream-range';

/**
 * Per-stream retention: keep at most `maxLength` entries and/or nothing older than `maxAgeMs`.
 * With partitioned streams `maxLength` holds per partition as `ceil(maxLength / partitions)`
 * entries, so the stream as a whole keeps at most about `maxLength`.
 */
export interface RetentionPolicy {
  maxLength?: number;
  maxAgeMs?: number;
}

export interface TrimResult {
  deleted: number;
  /** Entries the policy would have removed but some group has not acknowledged yet. */
  keptBecauseUnacknowledged: number;
}

/** `retentionMaxAgeMs` when not set: 7 days. */
export const DEFAULT_RETENTION_MAX_AGE_MS = 7 * 24 * 3_600_000;

/**
 * Trims streams by their policy (a stream without one: `retentionMaxAgeMs`, 7 days by default) without ever deleting an entry some group has not acknowledged
 * (pending, or not yet delivered), unless forced (docs/contract.md section 4). Policies live in
 * `<ns>:{<stream>}:retention` (one per stream, also when partitioned); every
 * `retentionIntervalMs` each process applies them to every registered stream. With partitioned streams the policy is applied
 * to each partition on its own: `maxLength` as `ceil(maxLength / partitions)` entries per
 * partition, and each partition's groups set its floor; the results are summed.
 * NOTE: Redis 8.2's XTRIM ... ACKED would do the group bookkeeping server-side.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private timer?: NodeJS.Timeout;

  constructor(private readonly core: EventBusCore) {}

  onApplicationBootstrap(): void {
    const every = this.core.options.retentionIntervalMs ?? 60_000;
    if (every > 0) this.timer = setInterval(() => void this.applyAll(), every).unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The policy of streams without one of their own: `retentionMaxAgeMs` (7 days by default), null when it is 0. */
  get defaultPolicy(): RetentionPolicy | null {
    const maxAgeMs = this.core.options.retentionMaxAgeMs ?? DEFAULT_RETENTION_MAX_AGE_MS;
    return maxAgeMs > 0 ? { maxAgeMs } : null;
  }

  /** The policy `apply` uses: the stream's own, else the default (null: keep everything). */
  async effectivePolicy(stream: string): Promise<RetentionPolicy | null> {
    return (await this.policy(stream)) ?? this.defaultPolicy;
  }

  /** The stream's own policy (null: none; the default then applies). */
  async policy(stream: string): Promise<RetentionPolicy | null> {
    const raw = await this.core.redis.hgetall(this.core.keys.retention(stream));
    if (!raw.maxLength && !raw.maxAgeMs) return null;
    return {
      ...(raw.maxLength ? { maxLength: Number(raw.maxLength) } : {}),
      ...(raw.maxAgeMs ? { maxAgeMs: Number(raw.maxAgeMs) } : {}),
    };
  }

  async setPolicy(stream: string, policy: RetentionPolicy | null): Promise<void> {
    const key = this.core.keys.retention(stream);
    const tx = this.core.redis.multi().del(key);
    if (policy?.maxLength !== undefined) tx.hset(key, 'maxLength', String(policy.maxLength));
    if (policy?.maxAgeMs !== undefined) tx.hset(key, 'maxAgeMs', String(policy.maxAgeMs));
    await tx.exec();
  }

  async apply(stream: string, opts: { force?: boolean } = {}): Promise<TrimResult> {
    const policy = await this.effectivePolicy(stream);
    if (!policy) return { deleted: 0, keptBecauseUnacknowledged: 0 };
    const { keys } = this.core;
    const perPartition: RetentionPolicy = { ...policy };
    if (policy.maxLength !== undefined) perPartition.maxLength = Math.ceil(policy.maxLength / keys.partitions);
    const results = await Promise.all(keys.all.map((k) => this.trim(keys.stream(stream, k), perPartition, opts)));
    const deleted = results.reduce((sum, r) => sum + r.deleted, 0);
    const kept = results.reduce((sum, r) => sum + r.keptBecauseUnacknowledged, 0);
    if (kept > 0)
      this.logger.warn(
        `${stream}: kept ${kept} entries past its retention policy that a group has not acknowledged yet`,
      );
    return { deleted, keptBecauseUnacknowledged: kept };
  }

  /** Trims one stream key (one partition) by `policy`. */
  private async trim(key: string, policy: RetentionPolicy, opts: { force?: boolean }): Promise<TrimResult> {
    const wanted = await this.policyFloor(key, policy);
    if (!wanted) return { deleted: 0, keptBecauseUnacknowledged: 0 };
    const safe = opts.force ? undefined : await this.unacknowledgedFloor(key);
    const minId = safe && compareIds(safe, wanted) < 0 ? safe : wanted;
    const kept = minId === wanted ? 0 : await countRange(this.core.redis, key, minId, `(${wanted}`);
    const deleted = Number(await this.core.redis.xtrim(key, 'MINID', minId));
    return { deleted, keptBecauseUnacknowledged: kept };
  }

  private async applyAll(): Promise<void> {
    const streams = new Set(contractRegistry.all().map((c) => c.meta.stream));
    for (const stream of streams) {
      await this.apply(stream).catch((error: unknown) =>
        this.logger.warn(`retention of ${stream} failed: ${String(error)}`),
      );
    }
  }

  /** The oldest id the policy keeps. */
  private async policyFloor(key: string, policy: RetentionPolicy): Promise<string | undefined> {
    const candidates: string[] = [];
    if (policy.maxAgeMs !== undefined) candidates.push(`${Date.now() - policy.maxAgeMs}-0`);
    if (policy.maxLength !== undefined) {
      const newest = await this.core.redis.xrevrange(key, '+', '-', 'COUNT', Math.max(1, policy.maxLength));
      if (newest.length >= policy.maxLength && newest.length > 0) {
        candidates.push(policy.maxLength === 0 ? nextId(newest[0][0]) : newest[newest.length - 1][0]);
      }
    }
    return candidates.sort(compareIds).pop();
  }

  /**
   * The oldest id some group still needs: its first pending entry, or the one after its last
   * delivered (groups in `retentionIgnoresGroups` do not count).
   */
  private async unacknowledgedFloor(key: string): Promise<string | undefined> {
    const groups = (await withConsumerScripts(this.core.redis)
      .xinfoOf(key, 'GROUPS')
      .catch(() => [])) as Array<Array<string | number>>;
    const ignored = new Set(this.core.options.retentionIgnoresGroups ?? []);
    let floor: string | undefined;
    for (const row of groups) {
      const info = pairsToRecord<string | number>(row);
      if (ignored.has(String(info.name))) continue;
      let needed = nextId(String(info['last-delivered-id']));
      if (Number(info.pending) > 0) {
        const [, first] = (await this.core.redis.xpending(key, String(info.name))) as [number, string, string, unknown];
        if (first && compareIds(first, needed) < 0) needed = first;
      }
      if (!floor || compareIds(needed, floor) < 0) floor = needed;
    }
    return floor;
  }
}
