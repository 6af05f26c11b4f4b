import { CLOUDEVENTS_SPEC_VERSION } from '../event-bus.constants';
import { ContractViolationError } from '../errors/contract-violation.error';
import type { EventEnvelope } from '../interfaces/event-envelope.interface';

const REQUIRED = ['specversion', 'id', 'type', 'source', 'time', 'datacontenttype', 'data'] as const;
const OPTIONAL = ['subject', 'correlationid', 'causationid', 'traceparent', 'tracestate'] as const;

/** The flat field list of one stream entry (`XADD key * f1 v1 f2 v2 ...`), with `data` as JSON text. */
export function encodeEnvelope(envelope: EventEnvelope<unknown>, dataJson?: string): string[] {
  const fields = [
    'specversion', envelope.specversion,
    'id', envelope.id,
    'type', envelope.type,
    'version', String(envelope.version),
    'source', envelope.source,
    'time', envelope.time,
    'datacontenttype', envelope.datacontenttype,
    'data', dataJson ?? JSON.stringify(envelope.data),
  ];
  for (const name of OPTIONAL) {
    const value = envelope[name];
    if (value !== undefined && value !== '') fields.push(name, value);
  }
  return fields;
}

/** The raw fields of an entry as an object (for dead letters and inspection). */
export function fieldsToRecord(fields: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]] = fields[i + 1];
  return record;
}

/**
 * Parses one entry per CONTRACT.md section 1. Throws ContractViolationError (reason
 * `missing-field`, `bad-specversion`, `bad-version`, `bad-json`, `data-not-object`) for an entry
 * that breaks it; the consumer dead-letters such entries.
 */
export function decodeEnvelope(fields: string[]): EventEnvelope<unknown> {
  const raw = fieldsToRecord(fields);
  for (const name of REQUIRED) {
    if (raw[name] === undefined || raw[name] === '') {
      throw new ContractViolationError('missing-field', `entry has no "${name}" field`);
    }
  }
  if (raw.specversion !== CLOUDEVENTS_SPEC_VERSION) {
    throw new ContractViolationError('bad-specversion', `specversion "${raw.specversion}" is not ${CLOUDEVENTS_SPEC_VERSION}`);
  }
  const version = raw.version === undefined ? 1 : Number(raw.version);
  if (!Number.isInteger(version) || version < 1) {
    throw new ContractViolationError('bad-version', `version "${raw.version}" is not a positive integer`);
  }
  let data: unknown;
  try {
    data = JSON.parse(raw.data);
  } catch (error) {
    throw new ContractViolationError('bad-json', `data is not JSON: ${(error as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ContractViolationError('data-not-object', 'data is JSON but not an object');
  }
  const envelope: EventEnvelope<unknown> = {
    specversion: raw.specversion,
    id: raw.id,
    type: raw.type,
    version,
    source: raw.source,
    time: raw.time,
    datacontenttype: raw.datacontenttype,
    data,
  };
  for (const name of OPTIONAL) if (raw[name] !== undefined) envelope[name] = raw[name];
  return envelope;
}
