import { assertName } from './names';
import { assertPartitions, partitionOf, partitionTag } from './partition';

/**
 * Redis key layout.
 *
 * **One partition** (the default): a stream and every companion key of it share a hash tag
 * (`{stream}`). On Redis Cluster the namespace itself is the hash tag (`{<ns>}:{<stream>}`: a
 * key's first tag decides its slot), so the whole namespace lives in one slot.
 *
 * | key | type | what |
 * |---|---|---|
 * | `<ns>:{<stream>}` | stream | the events |
 * | `<ns>:{<stream>}:dlq` | stream | dead letters of every group reading `<stream>` |
 * | `<ns>:{<stream>}:redrive:<group>` | stream | dead letters sent back to the one group that failed them |
 * | `<ns>:{<stream>}:replay:<group>` | stream | a replayed range, read only by that group (`ctx.replay`) |
 * | `<ns>:{<stream>}:retention` | hash | the stream's retention policy (`maxLength`, `maxAgeMs`) |
 * | `<ns>:{<stream>}:seen:<group>:<YYYYMMDDHH>` | hash (expires) | dedupe markers: a field per event id the group handled, by the hour of the event's time |
 *
 * **P partitions** (`partitions > 1`): partition k of *every* stream shares the hash tag
 * `{<ns>/<k>}`, so one XREADGROUP reads all of a group's streams of partition k, and a MULTI or
 * script may span the events, dead letters, dedupe markers and lease of one partition. The
 * stream name follows in a second pair of braces (only the first tag decides the slot):
 *
 * | key | what |
 * |---|---|
 * | `<ns>:{<ns>/<k>}:{<stream>}` | the events of partition k |
 * | `<ns>:{<ns>/<k>}:{<stream>}:dlq`, `:redrive:<group>`, `:replay:<group>`, `:seen:<group>:<hour>` | as above, per partition |
 * | `<ns>:{<ns>/0}:{<stream>}:retention` | the stream's retention policy (once, in partition 0) |
 * | `<ns>:{<ns>/<k>}:lease:<group>` | string `<member>\|<epoch>` with a TTL: who owns (group, k) |
 * | `<ns>:{<ns>/<k>}:epoch:<group>` | counter: the epoch of the latest grant (the fencing token) |
 * | `<ns>:{<ns>/0}:members:<group>` | sorted set: the group's live instances, by last heartbeat |
 *
 * An event goes to partition `CLUSTER KEYSLOT(subject ?? id) mod P` ({@link partitionOf}).
 */
export class EventBusKeys {
  /**
   * The prefix of the namespace's own keys other than streams (service state, BullMQ queues,
   * the flow index): the namespace, or on Redis Cluster `{<namespace>}`, a hash tag that keeps
   * them in one slot, so their MULTIs, scripts and pipelines stay legal there.
   */
  readonly namespace: string;

  /** The namespace as configured (the prefix without its hash tag). */
  readonly name: string;

  /** How many partitions every stream has (1: the unpartitioned layout). */
  readonly partitions: number;

  constructor(namespace: string, options: { cluster?: boolean; partitions?: number } = {}) {
    this.name = assertName('namespace', namespace);
    this.namespace = options.cluster ? `{${namespace}}` : namespace;
    this.partitions = assertPartitions(options.partitions ?? 1);
  }

  /** True when streams are split into partitions (`partitions > 1`), each with its own lease. */
  get partitioned(): boolean {
    return this.partitions > 1;
  }

  /** Every partition index: `[0, 1, ..., partitions - 1]`. */
  get all(): number[] {
    return Array.from({ length: this.partitions }, (_, k) => k);
  }

  /** The partition of an event about `subject` (its id when it has none). */
  partitionOf(subjectOrId: string): number {
    return this.partitioned ? partitionOf(subjectOrId, this.partitions) : 0;
  }

  /** The key of stream `stream`, partition `k`. */
  stream(stream: string, k = 0): string {
    assertName('stream', stream);
    if (!this.partitioned) return `${this.namespace}:{${stream}}`;
    return `${this.partitionPrefix(k)}:{${stream}}`;
  }

  /** Every partition's key of `stream`, by partition index. */
  streamKeys(stream: string): string[] {
    return this.all.map((k) => this.stream(stream, k));
  }

  deadLetter(stream: string, k = 0): string {
    return `${this.stream(stream, k)}:dlq`;
  }

  redrive(stream: string, group: string, k = 0): string {
    return `${this.stream(stream, k)}:redrive:${assertName('consumer group', group)}`;
  }

  replay(stream: string, group: string, k = 0): string {
    return `${this.stream(stream, k)}:replay:${assertName('consumer group', group)}`;
  }

  /** The stream's retention policy: one key for all its partitions. */
  retention(stream: string): string {
    return `${this.stream(stream, 0)}:retention`;
  }

  seen(stream: string, group: string, hourBucket: string, k = 0): string {
    return `${this.stream(stream, k)}:seen:${group}:${hourBucket}`;
  }

  /** The lease of (group, partition k): `<member>|<epoch>` while owned. */
  lease(group: string, k: number): string {
    return `${this.partitionPrefix(k)}:lease:${assertName('consumer group', group)}`;
  }

  /** The epoch counter of (group, partition k): incremented at every grant. */
  epoch(group: string, k: number): string {
    return `${this.partitionPrefix(k)}:epoch:${assertName('consumer group', group)}`;
  }

  /** The group's live instances (sorted set, member to last heartbeat in ms). */
  members(group: string): string {
    return `${this.partitionPrefix(0)}:members:${assertName('consumer group', group)}`;
  }

  /** The logical stream name of a stream key (either layout), or undefined when the key is not a stream of ours. */
  streamName(key: string): string | undefined {
    return this.parse(key)?.stream;
  }

  /** The partition of a key of ours (0 in the unpartitioned layout), or undefined when the key is not a stream of ours. */
  partitionOfKey(key: string): number | undefined {
    return this.parse(key)?.partition;
  }

  private parse(key: string): { stream: string; partition: number } | undefined {
    if (!this.partitioned) {
      const prefix = `${this.namespace}:{`;
      if (!key.startsWith(prefix) || !key.endsWith('}')) return undefined;
      return { stream: key.slice(prefix.length, -1), partition: 0 };
    }
    const prefix = `${this.name}:{${this.name}/`;
    if (!key.startsWith(prefix) || !key.endsWith('}')) return undefined;
    const close = key.indexOf('}:{', prefix.length);
    if (close === -1) return undefined;
    const partition = Number(key.slice(prefix.length, close));
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) return undefined;
    const stream = key.slice(close + 3, -1);
    if (stream.includes('}')) return undefined;
    return { stream, partition };
  }

  private partitionPrefix(k: number): string {
    if (!Number.isInteger(k) || k < 0 || k >= this.partitions) {
      throw new Error(`partition must be an integer from 0 to ${this.partitions - 1}, got ${String(k)}`);
    }
    return `${this.name}:{${partitionTag(this.name, k)}}`;
  }
}
