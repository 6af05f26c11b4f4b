import type { ExpectedVersion } from './interfaces/append.interface';

export const CONCURRENCY = (stream: string, expected: ExpectedVersion, actual: number): string =>
  `stream ${stream} is at version ${actual}, not ${expected === 'no-stream' ? 'empty (no-stream)' : expected} as expected: ` +
  'another writer appended first; reload the state and retry the command';
export const SNAPSHOT_AHEAD = (stream: string, version: number, actual: number): string =>
  `refused a snapshot of ${stream} at version ${version}: the stream is at version ${actual}; ` +
  'a snapshot is written only after its events are appended (reload the state from the stream and snapshot that)';
export const BAD_STREAM_NAME = (name: string): string =>
  `stream name "${name}" is not allowed: use <aggregateType>-<id> with letters, digits, '.', '_', '-' and ':' only (at most 200 characters)`;
export const BAD_AGGREGATE_TYPE = (type: string): string =>
  `aggregate type "${type}" is not allowed: use letters, digits, '.' and '_' only (no '-', it separates the type from the id)`;
export const BAD_EXPECTED_VERSION = (value: unknown): string =>
  `expectedVersion ${JSON.stringify(value)} is not allowed: use a whole number >= 0, 'no-stream' or 'any'`;
export const BAD_AS_OF = (what: string): string =>
  `${what}: pass asOfVersion (a whole number >= 0) or asOfTime (ISO 8601), not both`;
export const BAD_NAMESPACE = (namespace: string): string =>
  `event store namespace "${namespace}" is not allowed: use letters, digits, '.', '_', '-' and ':' only`;
