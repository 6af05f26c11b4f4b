import { OnApplicationShutdown } from '@nestjs/common';
import { Cluster } from 'ioredis';
import type Redis from 'ioredis';
import { DEFAULT_NAMESPACE, DEFAULT_PAGE_SIZE } from './event-store.constants';
import { BAD_AS_OF } from './event-store.messages';
import { EventStoreScripts, withEventStoreScripts } from './event-store.scripts';
import { ConcurrencyError } from './errors/concurrency.error';
import { SnapshotAheadOfStreamError } from './errors/snapshot-ahead-of-stream.error';
import type { AppendOptions, AppendResult } from './interfaces/append.interface';
import type { Evolver } from './interfaces/decider.interface';
import type { Event, EventMetadata, RecordedEvent } from './interfaces/event.interface';
import type { EventStoreOptions } from './interfaces/event-store-options.interface';
import type { LoadedState } from './interfaces/loaded-state.interface';
import type { AsOf, ReadBackwardOptions, ReadForwardOptions } from './interfaces/read.interface';
import type { SnapshotWriteResult, StoredSnapshot } from './interfaces/snapshot.interface';
import { decodeEntry, encodeEvent, normalizeTime } from './utils/codec';
import { encodeExpectedVersion } from './utils/expected-version';
import { EventStoreKeys } from './utils/keys';

type Entries = Array<[id: string, fields: string[]]>;

/**
 * An event store on Redis Streams, one stream per aggregate (`<ns>:es:{<type>-<id>}`), entry
 * ids `0-<version>` so that reading from any version is a range read. Appends are one Lua
 * script each: the expected-version check and every XADD happen atomically.
 */
export class EventStore implements OnApplicationShutdown {
  readonly keys: EventStoreKeys;
  readonly pageSize: number;
  private readonly redis: Redis & EventStoreScripts;

  /**
   * @param redis the connection to use
   * @param options namespace and page size
   * @param ownsConnection close `redis` on shutdown (true when the store opened it)
   */
  constructor(
    redis: Redis,
    options: EventStoreOptions = {},
    private readonly ownsConnection = false,
  ) {
    this.redis = withEventStoreScripts(redis);
    this.keys = new EventStoreKeys(options.namespace ?? DEFAULT_NAMESPACE);
    this.pageSize = Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE);
  }

  /**
   * Appends events atomically after checking `expectedVersion`. Each event gets the next version
   * and the Redis server's time. Throws ConcurrencyError (nothing written) on a mismatch.
   */
  async append<E extends Event>(
    streamName: string,
    events: E | E[],
    options: AppendOptions = {},
  ): Promise<AppendResult<E>> {
    const list = Array.isArray(events) ? events : [events];
    const expected = encodeExpectedVersion(options.expectedVersion);
    const args = list.flatMap((event) => encodeEvent(event, options.metadata));
    const reply = await this.redis.esAppend(
      this.keys.stream(streamName),
      this.keys.meta(streamName),
      expected,
      ...args,
    );
    if (Number(reply[0]) === 0)
      throw new ConcurrencyError(streamName, options.expectedVersion ?? 'any', Number(reply[1]));
    const version = Number(reply[1]);
    const time = String(reply[2]);
    const first = version - list.length + 1;
    return {
      version,
      events: list.map((event, i) => {
        const [, , metadata] = args.slice(i * 3, i * 3 + 3);
        const recorded = {
          ...event,
          metadata: JSON.parse(metadata) as EventMetadata,
          streamName,
          version: first + i,
          time,
          entryId: `0-${first + i}`,
        };
        return recorded as unknown as RecordedEvent<E>;
      }),
    };
  }

  /** The stream's version: its count of events, 0 for a stream that does not exist. */
  async version(streamName: string): Promise<number> {
    return Number(await this.redis.esVersion(this.keys.stream(streamName), this.keys.meta(streamName)));
  }

  /** Events in version order from `from` (default 1) through `to` (default the end), at most `count`. */
  async readForward<E extends Event = Event>(
    streamName: string,
    options: ReadForwardOptions = {},
  ): Promise<Array<RecordedEvent<E>>> {
    const out: Array<RecordedEvent<E>> = [];
    for await (const page of this.pages<E>(streamName, options)) out.push(...page);
    return out;
  }

  /** Events newest first from `from` (default the last one), at most `count`. */
  async readBackward<E extends Event = Event>(
    streamName: string,
    options: ReadBackwardOptions = {},
  ): Promise<Array<RecordedEvent<E>>> {
    const key = this.keys.stream(streamName);
    const out: Array<RecordedEvent<E>> = [];
    let cursor = options.from === undefined ? '+' : `0-${options.from}`;
    let left = options.count ?? Infinity;
    while (left > 0) {
      const count = Math.min(this.pageSize, left);
      const page = (await this.redis.xrevrange(key, cursor, '-', 'COUNT', count)) as Entries;
      for (const [id, fields] of page) out.push(decodeEntry<E>(streamName, id, fields));
      left -= page.length;
      if (page.length < count) break;
      cursor = `(${page[page.length - 1][0]}`;
    }
    return out;
  }

  /** Pages of events in version order (`pageSize` each), for streams too long to hold at once. */
  async *pages<E extends Event = Event>(
    streamName: string,
    options: ReadForwardOptions = {},
  ): AsyncGenerator<Array<RecordedEvent<E>>> {
    const key = this.keys.stream(streamName);
    let from = Math.max(1, options.from ?? 1);
    const end = options.to === undefined ? '+' : `0-${options.to}`;
    if (options.to !== undefined && options.to < from) return;
    let left = options.count ?? Infinity;
    while (left > 0) {
      const count = Math.min(this.pageSize, left);
      const page = (await this.redis.xrange(key, `0-${from}`, end, 'COUNT', count)) as Entries;
      if (page.length > 0) yield page.map(([id, fields]) => decodeEntry<E>(streamName, id, fields));
      left -= page.length;
      if (page.length < count) return;
      from = versionOf(page[page.length - 1][0]) + 1;
    }
  }

  /** The last version recorded at or before `time` (0 when the stream is younger). */
  async versionAt(streamName: string, time: string | Date): Promise<number> {
    return Number(
      await this.redis.esVersionAt(this.keys.stream(streamName), this.keys.meta(streamName), normalizeTime(time)),
    );
  }

  /**
   * The state of a stream, now or as of a version or a time: the newest usable snapshot (same
   * schema version, not past what is asked) plus the events after it, folded with `evolve`.
   * Reading the snapshot and the first page of events is one round trip.
   */
  async load<State, E extends Event>(
    streamName: string,
    evolver: Evolver<State, E>,
    asOf: AsOf = {},
  ): Promise<LoadedState<State>> {
    const upto = await this.resolveAsOf(streamName, asOf);
    const policy = evolver.snapshot;
    const key = this.keys.stream(streamName);
    const [, last, snapVersion, snapState, snapTime, firstPage] = await this.redis.esLoad(
      key,
      this.keys.meta(streamName),
      this.keys.snapshot(streamName),
      policy ? String(policy.schemaVersion) : '',
      upto === undefined ? '' : String(upto),
      this.pageSize,
    );
    const lastVersion = Number(last);
    let state: State;
    let version = 0;
    let time: string | undefined;
    let snapshotVersion: number | undefined;
    if (snapVersion !== null && snapState !== null && policy) {
      const raw: unknown = JSON.parse(snapState);
      state = policy.fromSnapshot ? policy.fromSnapshot(raw) : (raw as State);
      version = snapshotVersion = Number(snapVersion);
      time = snapTime || undefined;
    } else {
      state = evolver.initialState();
    }
    let applied = 0;
    let page: Entries = firstPage;
    while (page.length > 0) {
      for (const [id, fields] of page) {
        const event = decodeEntry<E>(streamName, id, fields);
        state = evolver.evolve(state, event);
        version = event.version;
        time = event.time;
        applied++;
      }
      if (page.length < this.pageSize || version >= lastVersion) break;
      page = (await this.redis.xrange(key, `0-${version + 1}`, `0-${lastVersion}`, 'COUNT', this.pageSize)) as Entries;
    }
    return { state, version, time, snapshotVersion, eventsApplied: applied };
  }

  /** The stored snapshot, whatever its schema version; undefined when there is none. */
  async readSnapshot(streamName: string): Promise<StoredSnapshot | undefined> {
    const raw = await this.redis.hgetall(this.keys.snapshot(streamName));
    if (raw.version === undefined || raw.state === undefined) return undefined;
    return {
      state: JSON.parse(raw.state),
      version: Number(raw.version),
      schemaVersion: Number(raw.schemaVersion),
      time: raw.time || undefined,
      writtenAt: raw.writtenAt,
    };
  }

  /**
   * Writes a snapshot of `state` (already `toSnapshot`-ed) at `version`, unless the stored one of
   * the same schema version is at or past it (`kept`). Refused with SnapshotAheadOfStreamError
   * when the stream has not reached `version`: a snapshot never runs ahead of its events.
   */
  async writeSnapshot(
    streamName: string,
    snapshot: { state: unknown; version: number; schemaVersion: number; time?: string },
  ): Promise<SnapshotWriteResult> {
    if (!Number.isSafeInteger(snapshot.version) || snapshot.version < 1)
      throw new RangeError(`snapshot version ${snapshot.version} is not a version >= 1`);
    const [status, version] = await this.redis.esWriteSnapshot(
      this.keys.stream(streamName),
      this.keys.meta(streamName),
      this.keys.snapshot(streamName),
      snapshot.version,
      snapshot.schemaVersion,
      JSON.stringify(snapshot.state),
      snapshot.time ?? '',
      new Date().toISOString(),
    );
    if (Number(status) === 0) throw new SnapshotAheadOfStreamError(streamName, snapshot.version, Number(version));
    return Number(status) === 1 ? 'written' : 'kept';
  }

  /** Deletes a stream with its meta and snapshot (one command: they share a slot). */
  async deleteStream(streamName: string): Promise<boolean> {
    const deleted = await this.redis.del(
      this.keys.stream(streamName),
      this.keys.meta(streamName),
      this.keys.snapshot(streamName),
    );
    return deleted > 0;
  }

  /**
   * The names of every stream of one aggregate type, by SCAN (the whole keyspace is walked: for
   * rebuilds and sweeps, not for request paths). A name may come twice; callers dedupe if it matters.
   */
  async *streamNames(aggregateType: string): AsyncGenerator<string> {
    const pattern = this.keys.streamPattern(aggregateType);
    // NOTE: SCAN walks one node: on a cluster, every master's keyspace.
    const nodes =
      (this.redis as unknown) instanceof Cluster ? (this.redis as unknown as Cluster).nodes('master') : [this.redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000, 'TYPE', 'stream');
        cursor = next;
        for (const key of keys) {
          const name = this.keys.streamName(key);
          if (name) yield name;
        }
      } while (cursor !== '0');
    }
  }

  /** Closes the connection if the store opened it. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.ownsConnection || this.redis.status === 'end') return;
    // NOTE: bounded: QUIT to a node that is gone (a dead master) waits in its offline queue forever.
    let timer: NodeJS.Timeout | undefined;
    const quit = this.redis.quit().then(
      () => true,
      () => false,
    );
    const ended = await Promise.race([
      quit,
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1_000))),
    ]);
    clearTimeout(timer);
    if (!ended) this.redis.disconnect();
  }

  private async resolveAsOf(streamName: string, asOf: AsOf): Promise<number | undefined> {
    const { asOfVersion, asOfTime } = asOf;
    if (asOfVersion !== undefined && asOfTime !== undefined) throw new RangeError(BAD_AS_OF(streamName));
    if (asOfVersion !== undefined) {
      if (!Number.isSafeInteger(asOfVersion) || asOfVersion < 0) throw new RangeError(BAD_AS_OF(streamName));
      return asOfVersion;
    }
    if (asOfTime !== undefined) return this.versionAt(streamName, asOfTime);
    return undefined;
  }
}

function versionOf(entryId: string): number {
  return Number(entryId.slice(entryId.indexOf('-') + 1));
}
