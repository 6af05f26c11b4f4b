import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EventBusCore, RawEntry, RawSubscriptions } from '@nest-streams/event-bus';
import type { Environment } from '@app/platform';
import { registeredStreams } from '../http/ops-params';
import { encodeEntry, flowIndexWrite, FlowIndexWrite, namesOf } from './flow-entry';
import { FlowNames } from './flow-names';
import { FlowKeys } from './flow-keys';
import {
  FLOW_INDEX_BATCH,
  FLOW_INDEX_CLAIM_TIMEOUT_MS,
  FLOW_INDEX_GROUP,
  FLOW_INDEX_RETRY_MAX_MS,
} from './flows.constants';

/**
 * Builds the flow view's index without any work in publishers or handlers: a raw subscription of
 * its own consumer group (`flow-index`) on every registered stream and on each stream's dead
 * letters (every partition's, when streams are partitioned: each entry is indexed with the partition
 * of the key it came from), created at the beginning so that what exists is indexed too. Per batch one pipeline
 * writes the index (flow-keys.ts: one list per flow, not keys per event); the bus acknowledges the batch once it is written, retries it
 * while Redis fails (index writes are idempotent), and stops the subscription at shutdown.
 */
@Injectable()
export class FlowIndexer implements OnApplicationBootstrap {
  readonly keys: FlowKeys;
  private readonly names: FlowNames;
  /** How long a flow is kept after its last write, in seconds. */
  readonly ttlSeconds: number;
  /** Entries indexed (and skipped as unplaceable) since this process started. */
  readonly stats = { indexed: 0, skipped: 0 };

  constructor(
    private readonly core: EventBusCore,
    private readonly subscriptions: RawSubscriptions,
    config: ConfigService<Environment, true>,
  ) {
    this.keys = new FlowKeys(core.keys.namespace);
    this.names = new FlowNames(core.redis, this.keys.names());
    // NOTE: by default a flow lives as long as its events do (the streams' default retention).
    const retentionMs = config.get('EVENT_RETENTION_MAX_AGE_MS', { infer: true });
    this.ttlSeconds =
      config.get('FLOW_INDEX_TTL_SECONDS', { infer: true }) ??
      (retentionMs > 0 ? Math.max(60, Math.ceil(retentionMs / 1000)) : 604_800);
  }

  async onApplicationBootstrap(): Promise<void> {
    // NOTE: the groups exist once this resolves, before the app serves, so what /ops shows of groups does not change under a caller.
    await this.subscriptions.subscribe({
      group: FLOW_INDEX_GROUP,
      streams: [...registeredStreams()].sort(),
      deadLetters: true,
      startFrom: 'beginning',
      consumer: {
        batchSize: FLOW_INDEX_BATCH,
        claimTimeoutMs: FLOW_INDEX_CLAIM_TIMEOUT_MS,
        retry: { maxDelayMs: FLOW_INDEX_RETRY_MAX_MS },
      },
      handle: (batch) => this.index(batch),
    });
  }

  /** One pipeline: the index writes of every entry of the batch, then their expiries. Throws when a write failed (the batch is retried). */
  private async index(batch: RawEntry[]): Promise<void> {
    const writes = batch
      .map((entry) => flowIndexWrite(entry.kind, entry.stream, entry.entryId, entry.fields, this.partitionOf(entry)))
      .filter((w): w is FlowIndexWrite => w !== undefined);
    await this.names.ensure(writes.flatMap((w) => namesOf(w.entry)));
    const pipeline = this.core.redis.pipeline();
    const ttl = this.ttlSeconds;
    // NOTE: one EXPIRE per key and batch: the events of a flow tend to arrive together.
    const expiring = new Set<string>();
    const ids = this.keys.ids(Date.now());
    let idEntries = 0;
    for (const write of writes) {
      // NOTE: a batch indexed again (a retry, a claim) appends its records again; the view drops the copies.
      const flow = this.keys.flow(write.correlationId);
      pipeline.rpush(flow, encodeEntry(write.entry, write.correlationId, this.names.codeOf));
      expiring.add(flow);
      if (write.needsIdEntry) {
        pipeline.hset(ids, write.eventId, write.correlationId);
        idEntries++;
      }
      if (write.subject) {
        const subject = this.keys.subject(write.subject);
        pipeline.zadd(subject, 'GT', write.score, write.correlationId);
        expiring.add(subject);
      }
    }
    for (const key of expiring) pipeline.expire(key, ttl);
    if (idEntries > 0) pipeline.expire(ids, ttl + 3600);
    if (pipeline.length > 0) {
      const failed = ((await pipeline.exec()) ?? []).find(([error]) => error);
      if (failed) throw failed[0];
    }
    this.stats.indexed += writes.length;
    this.stats.skipped += batch.length - writes.length;
  }

  /**
   * The partition of the key an entry was read from (a dead letter's is its event's), or
   * undefined when streams are not partitioned (the index then stays as without partitions).
   */
  private partitionOf(entry: RawEntry): number | undefined {
    const keys = this.core.keys;
    if (!keys.partitioned) return undefined;
    const streamKey =
      entry.kind === 'dead-letter' && entry.key.endsWith(':dlq') ? entry.key.slice(0, -':dlq'.length) : entry.key;
    return keys.partitionOfKey(streamKey);
  }
}
