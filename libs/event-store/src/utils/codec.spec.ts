import { decodeEntry, encodeEvent, normalizeTime } from './codec';

describe('event codec', () => {
  it('merges shared metadata under the event’s own', () => {
    const [type, data, metadata] = encodeEvent(
      { type: 'Deposited', data: { amount: 5 }, metadata: { causationId: 'b' } },
      { correlationId: 'a', causationId: 'x' },
    );
    expect([type, data, JSON.parse(metadata)]).toEqual([
      'Deposited',
      '{"amount":5}',
      { correlationId: 'a', causationId: 'b' },
    ]);
    expect(encodeEvent({ type: 'T', data: {} }, undefined)[2]).toBe('{}');
  });

  it('decodes a stream entry whatever the order of its fields', () => {
    const fields = [
      'version',
      '3',
      'metadata',
      '{"correlationId":"c"}',
      'time',
      '2025-01-02T03:04:05.006Z',
      'data',
      '{"amount":5}',
      'type',
      'Deposited',
    ];
    expect(decodeEntry('Account-1', '0-3', fields)).toEqual({
      type: 'Deposited',
      data: { amount: 5 },
      metadata: { correlationId: 'c' },
      streamName: 'Account-1',
      version: 3,
      time: '2025-01-02T03:04:05.006Z',
      entryId: '0-3',
    });
  });

  it('normalizes times to the form the store records', () => {
    expect(normalizeTime('2025-01-02T04:04:05+01:00')).toBe('2025-01-02T03:04:05.000Z');
    expect(normalizeTime(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(() => normalizeTime('soon')).toThrow(/not an ISO 8601 time/);
    expect(() => normalizeTime('+010000-01-01T00:00:00Z')).toThrow(/years 0000-9999/);
  });
});
