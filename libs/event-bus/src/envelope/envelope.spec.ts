import { ContractViolationError } from '../errors/contract-violation.error';
import { decodeEnvelope, encodeEnvelope } from './envelope';

const envelope = {
  specversion: '1.0',
  id: '0b7a2d8e-7f53-4c8e-9a43-0f6c2b9b7f10',
  type: 'OrderPlaced',
  version: 2,
  source: 'order-service',
  time: '2026-11-26T10:00:00.000Z',
  datacontenttype: 'application/json',
  data: { orderId: 'ORD-7701', items: [{ sku: 'A', quantity: 2 }] },
  subject: 'ORD-7701',
  correlationid: 'c-1',
};

function fieldsWithout(name: string): string[] {
  const fields = encodeEnvelope(envelope);
  const at = fields.indexOf(name);
  fields.splice(at, 2);
  return fields;
}

function reasonOf(fields: string[]): string {
  try {
    decodeEnvelope(fields);
  } catch (error) {
    if (error instanceof ContractViolationError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('envelope', () => {
  it('round-trips every attribute, flat, with data as JSON text', () => {
    const fields = encodeEnvelope(envelope);
    expect(fields.slice(0, 4)).toEqual(['specversion', '1.0', 'id', envelope.id]);
    expect(fields[fields.indexOf('data') + 1]).toBe(JSON.stringify(envelope.data));
    expect(fields).not.toContain('causationid');
    expect(decodeEnvelope(fields)).toEqual(envelope);
  });

  it('defaults version to 1 when a foreign producer leaves it out', () => {
    expect(decodeEnvelope(fieldsWithout('version')).version).toBe(1);
  });

  it.each(['specversion', 'id', 'type', 'source', 'time', 'datacontenttype', 'data'])(
    'rejects an entry without %s',
    (name) => {
      expect(reasonOf(fieldsWithout(name))).toBe('missing-field');
    },
  );

  it.each([
    ['data', '{not json', 'bad-json'],
    ['data', '[1,2]', 'data-not-object'],
    ['data', 'null', 'data-not-object'],
    ['data', '42', 'data-not-object'],
    ['version', 'two', 'bad-version'],
    ['version', '0', 'bad-version'],
    ['specversion', '0.3', 'bad-specversion'],
  ])('rejects %s=%j as %s', (name, value, reason) => {
    const fields = encodeEnvelope(envelope);
    fields[fields.indexOf(name) + 1] = value;
    expect(reasonOf(fields)).toBe(reason);
  });
});
