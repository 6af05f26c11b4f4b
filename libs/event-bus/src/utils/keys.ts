import { assertName } from './names';

/**
 * Redis key layout. A stream and every companion key of it share a hash tag (`{stream}`). On
 * Redis Cluster the namespace itself is the hash tag (`{<ns>}:{<stream>}`: a key's first tag
 * decides its slot), so the whole namespace lives in one slot.
 *
 * | key | type | what |
 * |---|---|---|
 * | `<ns>:{<stream>}` | stream | the events |
 * | `<ns>:{<stream>}:dlq` | stream | dead letters of every group reading `<stream>` |
 * | `<ns>:{<stream>}:redrive:<group>` | stream | dead letters sent back to the one group that failed them |
 * | `<ns>:{<stream>}:replay:<group>` | stream | a replayed range, read only by that group (`ctx.replay`) |
 * | `<ns>:{<stream>}:retention` | hash | the stream's retention policy (`maxLength`, `maxAgeMs`) |
 * | `<ns>:{<stream>}:seen:<group>:<YYYYMMDDHH>` | hash (expires) | dedupe markers: a field per event id the group handled, by the hour of the event's time |
 */
export class EventBusKeys {
  /**
   * The prefix of every key: the namespace, or on Redis Cluster `{<namespace>}`, a hash tag that
   * keeps every key of the namespace (streams, service state, BullMQ queues, the flow index) in
   * one slot, so that every MULTI, script and pipeline stays legal there.
   */
  readonly namespace: string;

  /** The namespace as configured (the prefix without its hash tag). */
  readonly name: string;

  constructor(namespace: string, options: { cluster?: boolean } = {}) {
    this.name = assertName('namespace', namespace);
    this.namespace = options.cluster ? `{${namespace}}` : namespace;
  }

  stream(stream: string): string {
    return `${this.namespace}:{${assertName('stream', stream)}}`;
  }

  deadLetter(stream: string): string {
    return `${this.stream(stream)}:dlq`;
  }

  redrive(stream: string, group: string): string {
    return `${this.stream(stream)}:redrive:${assertName('consumer group', group)}`;
  }

  replay(stream: string, group: string): string {
    return `${this.stream(stream)}:replay:${assertName('consumer group', group)}`;
  }

  retention(stream: string): string {
    return `${this.stream(stream)}:retention`;
  }

  seen(stream: string, group: string, hourBucket: string): string {
    return `${this.stream(stream)}:seen:${group}:${hourBucket}`;
  }

  /** The logical stream name of a stream key, or undefined when the key is not one of ours. */
  streamName(key: string): string | undefined {
    const prefix = `${this.namespace}:{`;
    if (!key.startsWith(prefix) || !key.endsWith('}')) return undefined;
    return key.slice(prefix.length, -1);
  }
}
