import { BAD_AGGREGATE_TYPE, BAD_NAMESPACE, BAD_STREAM_NAME } from '../event-store.messages';

const STREAM_NAME = /^[A-Za-z0-9._:-]{1,200}$/;
const AGGREGATE_TYPE = /^[A-Za-z0-9._]{1,100}$/;
const NAMESPACE = /^[A-Za-z0-9._:-]{1,64}$/;

/** `<aggregateType>-<id>`, the name of one aggregate's stream. */
export function toStreamName(aggregateType: string, id: string): string {
  if (!AGGREGATE_TYPE.test(aggregateType)) throw new Error(BAD_AGGREGATE_TYPE(aggregateType));
  return assertStreamName(`${aggregateType}-${id}`);
}

/** The aggregate type and id of a stream name made by `toStreamName`. */
export function fromStreamName(streamName: string): { aggregateType: string; id: string } {
  const dash = streamName.indexOf('-');
  if (dash <= 0) throw new Error(BAD_STREAM_NAME(streamName));
  return { aggregateType: streamName.slice(0, dash), id: streamName.slice(dash + 1) };
}

export function isValidStreamName(streamName: string): boolean {
  return STREAM_NAME.test(streamName);
}

export function assertStreamName(streamName: string): string {
  if (!STREAM_NAME.test(streamName)) throw new Error(BAD_STREAM_NAME(streamName));
  return streamName;
}

/**
 * Key layout of the store. The stream name is the hash tag, so a stream, its meta and its
 * snapshot live in one Redis Cluster slot and the Lua scripts that touch them together stay legal.
 *
 * | key | type | what |
 * |---|---|---|
 * | `<ns>:es:{<type>-<id>}` | stream | the events, entry id `0-<version>`, fields `type`, `data`, `version`, `time`, `metadata` |
 * | `<ns>:es:{<type>-<id>}:meta` | hash | `version` (event count) and `timeMs` (time of the last event, ms) |
 * | `<ns>:es:{<type>-<id>}:snapshot` | hash | `state` (JSON), `version`, `schemaVersion`, `time`, `writtenAt` |
 */
export class EventStoreKeys {
  readonly prefix: string;

  constructor(readonly namespace: string) {
    if (!NAMESPACE.test(namespace)) throw new Error(BAD_NAMESPACE(namespace));
    this.prefix = `${namespace}:es:`;
  }

  stream(streamName: string): string {
    return `${this.prefix}{${assertStreamName(streamName)}}`;
  }

  meta(streamName: string): string {
    return `${this.stream(streamName)}:meta`;
  }

  snapshot(streamName: string): string {
    return `${this.stream(streamName)}:snapshot`;
  }

  /** SCAN pattern of the streams of one aggregate type (not their meta or snapshot keys). */
  streamPattern(aggregateType: string): string {
    if (!AGGREGATE_TYPE.test(aggregateType)) throw new Error(BAD_AGGREGATE_TYPE(aggregateType));
    return `${this.prefix}{${aggregateType}-*}`;
  }

  /** The stream name of a stream key, or undefined for a key that is not a stream of this store. */
  streamName(key: string): string | undefined {
    if (!key.startsWith(`${this.prefix}{`) || !key.endsWith('}')) return undefined;
    return key.slice(this.prefix.length + 1, -1);
  }
}
