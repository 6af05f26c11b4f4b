import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type Redis from 'ioredis';
import { EventBusCore, settlesWithin } from '@app/event-bus';
import type { Environment } from '@app/platform';
import { registeredStreams } from '../http/ops-params';
import { flowIndexWrite, IndexedEntry } from './flow-entry';
import { FlowKeys } from './flow-keys';
import { FLOW_INDEX_BATCH, FLOW_INDEX_BLOCK_MS, FLOW_INDEX_GROUP, FLOW_INDEX_ORPHAN_IDLE_MS, FLOW_INDEX_RETRY_MS } from './flows.constants';

/** One key the indexer reads: a registered stream or its dead-letter stream. */
interface Source {
  key: string;
  stream: string;
  kind: IndexedEntry['kind'];
}

type ReadReply = Array<[key: string, entries: Array<[id: string, fields: string[] | null]>]>;

/**
 * Builds the flow view's index without any work in publishers or handlers: its own consumer
 * group (`flow-index`) on every registered stream and on each stream's dead letters, created at
 * the beginning so that what exists is indexed too. Per read batch one pipeline writes the index
 * (flow-keys.ts) and acknowledges the batch. Reads on a connection of its own; when Redis fails
 * it waits and reads its own pending entries again (index writes are idempotent).
 */
@Injectable()
export class FlowIndexer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(FlowIndexer.name);
  readonly keys: FlowKeys;
  private readonly ttlSeconds: number;
  private readonly sources: Source[] = [];
  private reader?: Redis;
  private readerId?: number;
  private loop?: Promise<void>;
  private closed = false;
  private readonly stopped = new AbortController();
  /** Entries indexed (and skipped as unplaceable) since this process started. */
  readonly stats = { indexed: 0, skipped: 0 };

  constructor(
    private readonly core: EventBusCore,
    config: ConfigService<Environment, true>,
  ) {
    this.keys = new FlowKeys(core.keys.namespace);
    this.ttlSeconds = config.get('FLOW_INDEX_TTL_SECONDS', { infer: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const stream of [...registeredStreams()].sort()) {
      this.sources.push({ key: this.core.keys.stream(stream), stream, kind: 'event' }, { key: this.core.keys.deadLetter(stream), stream, kind: 'dead-letter' });
    }
    // NOTE: groups are created before the app serves, so what /ops shows of groups does not change under a caller; a failure is retried by the loop.
    const ready = await this.createGroups().then(
      () => true,
      (error: unknown) => (this.logger.warn(`flow index: cannot create its groups yet (${String(error)}); retrying in the background`), false),
    );
    const reader = this.core.createReader(FLOW_INDEX_GROUP);
    reader.on('close', () => (this.readerId = undefined));
    this.reader = reader;
    this.loop = this.run(reader, ready);
    this.logger.log(`flow index: group ${FLOW_INDEX_GROUP} reads ${this.sources.length / 2} streams and their dead letters`);
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.stopped.abort();
    if (this.readerId !== undefined && this.core.redis.status === 'ready') await this.core.redis.client('UNBLOCK', this.readerId).catch(() => undefined);
    // NOTE: a read queued while Redis is away never returns by itself: closing the reader fails it.
    const finished = await settlesWithin(this.loop, FLOW_INDEX_BLOCK_MS + 500);
    if (this.reader) await this.core.closeReader(this.reader);
    if (!finished) await this.loop;
  }

  private async run(reader: Redis, groupsReady: boolean): Promise<void> {
    let needGroups = !groupsReady;
    let needClaim = true;
    // NOTE: '0' reads this consumer's own pending entries first (a crash or a failed batch), '>' then new ones.
    const cursors = new Map(this.sources.map((s) => [s.key, '0']));
    let failing = false;
    while (!this.closed) {
      try {
        if (needGroups) await this.createGroups();
        needGroups = false;
        if (needClaim) await this.claimOrphans(reader);
        needClaim = false;
        if (this.readerId === undefined) this.readerId = Number(await reader.client('ID'));
        const keys = [...cursors.keys()];
        const reply = (await reader.xreadgroup(
          'GROUP', FLOW_INDEX_GROUP, this.core.consumerName, 'COUNT', FLOW_INDEX_BATCH, 'BLOCK', FLOW_INDEX_BLOCK_MS,
          'STREAMS', ...keys, ...keys.map((k) => cursors.get(k)!),
        )) as ReadReply | null;
        if (failing) this.logger.log('flow index: reading again');
        failing = false;
        const read = new Map(reply ?? []);
        for (const [key, cursor] of cursors) if (cursor === '0' && !read.get(key)?.length) cursors.set(key, '>');
        if (read.size > 0) await this.index(reader, read);
      } catch (error) {
        if (this.closed) break;
        const message = error instanceof Error ? error.message : String(error);
        // NOTE: a stream (or the group) was deleted, maybe while the read blocked on it: create the groups again.
        const noGroup = /NOGROUP|no longer exists/.test(message);
        if (noGroup) {
          if (!needGroups) this.logger.warn('flow index: a stream or its flow-index group vanished: creating the groups again');
          needGroups = true;
        } else if (!failing) this.logger.warn(`flow index: ${message}; retrying every ${FLOW_INDEX_RETRY_MS} ms`);
        failing ||= !noGroup;
        for (const key of cursors.keys()) cursors.set(key, '0');
        needClaim = true;
        await sleep(noGroup ? 50 : FLOW_INDEX_RETRY_MS, this.stopped.signal);
      }
    }
  }

  /** One pipeline: the index writes of every entry read, their expiries, then the XACKs. */
  private async index(redis: Redis, read: Map<string, Array<[string, string[] | null]>>): Promise<void> {
    const pipeline = redis.pipeline();
    const ttl = this.ttlSeconds;
    // NOTE: one EXPIRE per key and batch: the events of a flow tend to arrive together.
    const expiring = new Set<string>();
    const acks: Array<[string, string[]]> = [];
    for (const source of this.sources) {
      const entries = read.get(source.key);
      if (!entries?.length) continue;
      for (const [entryId, fields] of entries) {
        const write = flowIndexWrite(source.kind, source.stream, entryId, fields);
        if (!write) {
          this.stats.skipped++;
          continue;
        }
        this.stats.indexed++;
        const flow = this.keys.flow(write.correlationId);
        pipeline.zadd(flow, write.score, write.member);
        expiring.add(flow);
        pipeline.set(this.keys.event(write.eventId), write.correlationId, 'EX', ttl);
        if (write.subject) {
          const subject = this.keys.subject(write.subject);
          pipeline.zadd(subject, 'GT', write.score, write.correlationId);
          expiring.add(subject);
        }
      }
      acks.push([source.key, entries.map(([id]) => id)]);
    }
    for (const key of expiring) pipeline.expire(key, ttl);
    // NOTE: last, on the same connection: Redis runs a pipeline in order, so an acknowledged entry is indexed (and its keys expire).
    for (const [key, ids] of acks) pipeline.xack(key, FLOW_INDEX_GROUP, ...ids);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  }

  private async createGroups(): Promise<void> {
    await Promise.all(
      this.sources.map((s) =>
        this.core.redis.xgroup('CREATE', s.key, FLOW_INDEX_GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
          if (!String(error).includes('BUSYGROUP')) throw error;
        }),
      ),
    );
  }

  /** Takes over what a dead indexer left pending (its entries are then read with this consumer's own). */
  private async claimOrphans(redis: Redis): Promise<void> {
    const pipeline = redis.pipeline();
    for (const s of this.sources) pipeline.xautoclaim(s.key, FLOW_INDEX_GROUP, this.core.consumerName, FLOW_INDEX_ORPHAN_IDLE_MS, '0-0', 'COUNT', 1000, 'JUSTID');
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
