import {
  encodeEntry,
  flowIndexWrite,
  isSubjectDerived,
  namesOf,
  parseIndexedEntry,
  subjectsOfEventId,
} from './flow-entry';

const fields = (record: Record<string, string>): string[] => Object.entries(record).flat();

const placed = {
  specversion: '1.0',
  id: 'evt-1',
  type: 'OrderPlaced',
  version: '2',
  source: 'order-service',
  time: '2025-01-06T09:00:00.000Z',
  datacontenttype: 'application/json',
  data: '{"orderId":"ORD-1"}',
  subject: 'ORD-1',
  correlationid: 'evt-1',
};

describe('flowIndexWrite', () => {
  it('indexes an event under its correlation id, by entry time, with what the view shows', () => {
    const write = flowIndexWrite(
      'event',
      'orders',
      '1736154000000-3',
      fields({ ...placed, id: 'evt-2', correlationid: 'evt-1', causationid: 'evt-1' }),
    );
    expect(write).toEqual({
      correlationId: 'evt-1',
      eventId: 'evt-2',
      subject: 'ORD-1',
      score: 1736154000000,
      entry: expect.objectContaining({ kind: 'event', id: 'evt-2' }),
      member: expect.any(String),
      needsIdEntry: true,
    });
    expect(parseIndexedEntry(write!.member, 'evt-1')).toEqual({
      kind: 'event',
      stream: 'orders',
      entryId: '1736154000000-3',
      id: 'evt-2',
      type: 'OrderPlaced',
      version: 2,
      source: 'order-service',
      subject: 'ORD-1',
      time: '2025-01-06T09:00:00.000Z',
      causationid: 'evt-1',
    });
  });

  it('writes the same member for the same entry (indexing twice adds nothing)', () => {
    const a = flowIndexWrite('event', 'orders', '1-0', fields(placed));
    const reordered = Object.fromEntries(Object.entries(placed).reverse());
    const b = flowIndexWrite('event', 'orders', '1-0', fields(reordered));
    expect(a?.member).toBe(b?.member);
  });

  it('puts an event without correlation id in a flow of its own; version 1 when absent; null for what it lacks', () => {
    const write = flowIndexWrite(
      'event',
      'orders',
      '5-0',
      fields({ id: 'lonely', type: 'OrderPlaced', data: 'not json' }),
    );
    expect(write?.correlationId).toBe('lonely');
    expect(write?.subject).toBeNull();
    expect(parseIndexedEntry(write!.member, 'lonely')).toMatchObject({
      id: 'lonely',
      version: 1,
      source: null,
      subject: null,
      time: null,
      causationid: null,
    });
  });

  it('skips what cannot be placed: a deleted entry, no event id, an absurdly long id', () => {
    expect(flowIndexWrite('event', 'orders', '1-0', null)).toBeUndefined();
    expect(flowIndexWrite('event', 'orders', '1-0', fields({ type: 'Garbage', data: 'x' }))).toBeUndefined();
    expect(flowIndexWrite('event', 'orders', '1-0', fields({ ...placed, id: 'x'.repeat(600) }))).toBeUndefined();
  });

  it('indexes a dead letter under the flow of the event it holds, with group, reason, error and attempts', () => {
    const dead = fields({
      reason: 'handler-failed',
      error: 'gateway down',
      stream: 'orders',
      entryid: '1736154000000-3',
      group: 'payment',
      consumer: 'api-1',
      handler: 'PaymentService.onOrderPlaced',
      attempts: '5',
      deadletteredat: '2025-01-06T09:00:05.000Z',
      eventid: 'evt-2',
      type: 'OrderPlaced',
      envelope: JSON.stringify({ ...placed, id: 'evt-2', causationid: 'evt-1' }),
    });
    const write = flowIndexWrite('dead-letter', 'orders', '1736154005000-0', dead);
    expect(write).toMatchObject({ correlationId: 'evt-1', eventId: 'evt-2', subject: 'ORD-1', score: 1736154005000 });
    expect(parseIndexedEntry(write!.member, write!.correlationId)).toEqual({
      kind: 'dead-letter',
      stream: 'orders',
      entryId: '1736154000000-3',
      id: 'evt-2',
      type: 'OrderPlaced',
      version: 2,
      source: 'order-service',
      subject: 'ORD-1',
      time: '2025-01-06T09:00:00.000Z',
      causationid: 'evt-1',
      deadLetterId: '1736154005000-0',
      group: 'payment',
      reason: 'handler-failed',
      error: 'gateway down',
      handler: 'PaymentService.onOrderPlaced',
      consumer: 'api-1',
      attempts: 5,
      deadletteredat: '2025-01-06T09:00:05.000Z',
    });
  });

  it('indexes a dead letter whose envelope is not JSON by its event id alone', () => {
    const write = flowIndexWrite(
      'dead-letter',
      'orders',
      '9-0',
      fields({ reason: 'bad-json', entryid: '8-0', group: 'g', eventid: 'evt-9', envelope: '{' }),
    );
    expect(write?.correlationId).toBe('evt-9');
    expect(parseIndexedEntry(write!.member, 'evt-9')).toMatchObject({
      kind: 'dead-letter',
      id: 'evt-9',
      entryId: '8-0',
      type: null,
      attempts: null,
    });
  });
});

describe('parseIndexedEntry', () => {
  it.each(['not json', '1', 'null', '{"id":"x"}', '["orders"]', '[0,"orders","1-0"]', '[1,2,3,4,5,6,7,8,9]'])(
    '%s is not a record the indexer wrote',
    (member) => {
      expect(parseIndexedEntry(member, 'evt-1')).toBeUndefined();
    },
  );
});

describe('the compact record', () => {
  it('writes ids of the flow and of its subject, the entry id and the time in short form, and reads them back', () => {
    const write = flowIndexWrite(
      'event',
      'inventory',
      '1736154000050-0',
      fields({ ...placed, id: 'ORD-1:reserved', type: 'InventoryReserved', version: '1', causationid: 'evt-1' }),
    );
    expect(write?.needsIdEntry).toBe(false);
    expect(JSON.parse(write!.member)).toEqual([
      'inventory',
      1736154000050,
      '^:reserved',
      'InventoryReserved',
      1,
      'order-service',
      'ORD-1',
      -50,
      0,
    ]);
    expect(parseIndexedEntry(write!.member, 'evt-1')).toEqual({
      kind: 'event',
      stream: 'inventory',
      entryId: '1736154000050-0',
      id: 'ORD-1:reserved',
      type: 'InventoryReserved',
      version: 1,
      source: 'order-service',
      subject: 'ORD-1',
      time: '2025-01-06T09:00:00.000Z',
      causationid: 'evt-1',
    });
  });

  it('keeps values as they are when the short forms do not apply, a partition too', () => {
    const odd = { ...placed, id: '^odd', causationid: '\\back', time: '2025-01-06T09:00:00Z', correlationid: 'c-1' };
    const write = flowIndexWrite('event', 'orders', '1736154000000-7', fields(odd), 3);
    expect(write?.needsIdEntry).toBe(true);
    expect(parseIndexedEntry(write!.member, 'c-1')).toEqual({
      kind: 'event',
      stream: 'orders',
      entryId: '1736154000000-7',
      partition: 3,
      id: '^odd',
      type: 'OrderPlaced',
      version: 2,
      source: 'order-service',
      subject: 'ORD-1',
      time: '2025-01-06T09:00:00Z',
      causationid: '\\back',
    });
  });

  it('writes stream, type and source as codes when it has them, and reads them back through the names', () => {
    const write = flowIndexWrite('event', 'orders', '1736154000000-0', fields(placed))!;
    const codes: Record<string, number> = { orders: 1, OrderPlaced: 2, 'order-service': 3 };
    const member = encodeEntry(write.entry, write.correlationId, (n) => codes[n]);
    expect(JSON.parse(member)).toEqual([1, 1736154000000, 0, 2, 2, 3, 'ORD-1', 0, null]);
    expect(namesOf(write.entry)).toEqual(['orders', 'OrderPlaced', 'order-service']);
    const names = Object.fromEntries(Object.entries(codes).map(([n, c]) => [c, n]));
    expect(parseIndexedEntry(member, 'evt-1', (c) => names[c])).toEqual(parseIndexedEntry(write.member, 'evt-1'));
    expect(parseIndexedEntry(member, 'evt-1')).toBeUndefined();
  });

  it('finds the subjects an event id may be derived from', () => {
    expect(subjectsOfEventId('ORD-1:payment:retry')).toEqual(['ORD-1:payment', 'ORD-1']);
    expect(subjectsOfEventId('evt-1')).toEqual([]);
    expect(isSubjectDerived('ORD-1:reserved', 'ORD-1')).toBe(true);
    expect(isSubjectDerived('ORD-10:reserved', 'ORD-1')).toBe(false);
  });
});
