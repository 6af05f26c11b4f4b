import { CLOUDEVENTS_SPEC_VERSION } from '../event-bus.constants';
import { ContractViolationError } from '../errors/contract-violation.error';
import type { EventEnvelope } from '../interfaces/event-envelope.interface';
import { pairsToRecord } from '../utils/pairs';

const OPTIONAL = ['subject', 'correlationid', 'causationid', 'traceparent', 'tracestate'] as const;

/** The flat field list of one stream entry (`XADD key * f1 v1 f2 v2 ...`), with `data` as JSON text. */
export function encodeEnvelope(envelope: EventEnvelope<unknown>, dataJson?: string): string[] {
  const fields = [
    'specversion',
    envelope.specversion,
    'id',
    envelope.id,
    'type',
    envelope.type,
    'version',
    String(envelope.version),
    'source',
    envelope.source,
    'time',
    envelope.time,
    'datacontenttype',
    envelope.datacontenttype,
    'data',
    dataJson ?? JSON.stringify(envelope.data),
  ];
  for (const name of OPTIONAL) {
    const value = envelope[name];
    if (value !== undefined && value !== '') fields.push(name, value);
  }
  return fields;
}

/** The raw fields of an entry as an object (for dead letters and inspection). */
export function fieldsToRecord(fields: string[]): Record<string, string> {
  return pairsToRecord<string>(fields);
}

/**
 * Parses one entry per docs/contract.md section 1. Throws ContractViolationError (reason
 * `missing-field`, `bad-specversion`, `bad-version`, `bad-json`, `data-not-object`) for an entry
 * that breaks it; the consumer dead-letters such entries.
 */
export function decodeEnvelope(fields: string[]): EventEnvelope<unknown> {
  // NOTE: one pass with a switch: this runs for every entry a consumer reads.
  let specversion: string | undefined, id: string | undefined, type: string | undefined, source: string | undefined;
  let time: string | undefined,
    datacontenttype: string | undefined,
    data: string | undefined,
    version: string | undefined;
  let subject: string | undefined, correlationid: string | undefined, causationid: string | undefined;
  let traceparent: string | undefined, tracestate: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    switch (fields[i]) {
      case 'specversion':
        specversion = value;
        break;
      case 'id':
        id = value;
        break;
      case 'type':
        type = value;
        break;
      case 'version':
        version = value;
        break;
      case 'source':
        source = value;
        break;
      case 'time':
        time = value;
        break;
      case 'datacontenttype':
        datacontenttype = value;
        break;
      case 'data':
        data = value;
        break;
      case 'subject':
        subject = value;
        break;
      case 'correlationid':
        correlationid = value;
        break;
      case 'causationid':
        causationid = value;
        break;
      case 'traceparent':
        traceparent = value;
        break;
      case 'tracestate':
        tracestate = value;
        break;
    }
  }
  if (!specversion) throw missing('specversion');
  if (!id) throw missing('id');
  if (!type) throw missing('type');
  if (!source) throw missing('source');
  if (!time) throw missing('time');
  if (!datacontenttype) throw missing('datacontenttype');
  if (!data) throw missing('data');
  if (specversion !== CLOUDEVENTS_SPEC_VERSION) {
    throw new ContractViolationError(
      'bad-specversion',
      `specversion "${specversion}" is not ${CLOUDEVENTS_SPEC_VERSION}`,
    );
  }
  const versionNumber = version === undefined ? 1 : Number(version);
  if (!Number.isInteger(versionNumber) || versionNumber < 1) {
    throw new ContractViolationError('bad-version', `version "${version}" is not a positive integer`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (error) {
    throw new ContractViolationError('bad-json', `data is not JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ContractViolationError('data-not-object', 'data is JSON but not an object');
  }
  const envelope: EventEnvelope<unknown> = {
    specversion,
    id,
    type,
    version: versionNumber,
    source,
    time,
    datacontenttype,
    data: parsed,
  };
  if (subject !== undefined) envelope.subject = subject;
  if (correlationid !== undefined) envelope.correlationid = correlationid;
  if (causationid !== undefined) envelope.causationid = causationid;
  if (traceparent !== undefined) envelope.traceparent = traceparent;
  if (tracestate !== undefined) envelope.tracestate = tracestate;
  return envelope;
}

function missing(name: string): ContractViolationError {
  return new ContractViolationError('missing-field', `entry has no "${name}" field`);
}
