import type { IndexedDeadLetter, IndexedEvent } from './flow-entry';
import { buildFlowTree, flowNodes, FlowNode, groupStatus } from './flow-tree';

const event = (entryId: string, id: string, causationid: string | null, stream = 'orders'): IndexedEvent => ({
  kind: 'event',
  stream,
  entryId,
  id,
  type: `T-${id}`,
  version: 1,
  source: 's',
  subject: 'ORD-1',
  time: '2025-01-06T09:00:00.000Z',
  causationid,
});

const dead = (over: Partial<IndexedDeadLetter> = {}): IndexedDeadLetter => ({
  ...event('10-0', 'a', null),
  kind: 'dead-letter',
  deadLetterId: '20-0',
  group: 'payment',
  reason: 'handler-failed',
  error: 'boom',
  handler: 'H.h',
  consumer: 'c1',
  attempts: 5,
  deadletteredat: '2025-01-06T09:00:05.000Z',
  ...over,
});

const outline = (nodes: FlowNode[]): unknown[] =>
  nodes.map((n) => (n.children.length ? { [n.eventId]: outline(n.children) } : n.eventId));

describe('buildFlowTree', () => {
  it('nests by causation id across streams, siblings in entry order, unknown causes as roots', () => {
    const nodes = flowNodes([
      event('30-0', 'confirmed', 'paid'),
      event('10-0', 'placed', null),
      event('20-1', 'paid', 'placed', 'payments'),
      event('20-0', 'reserved', 'placed', 'inventory'),
      event('40-0', 'stray', 'somewhere-else'),
    ]);
    expect(outline(buildFlowTree(nodes))).toEqual([{ placed: ['reserved', { paid: ['confirmed'] }] }, 'stray']);
  });

  it('never loses a node to a cycle: only an earlier entry can be a parent', () => {
    const nodes = flowNodes([event('1-0', 'a', 'b'), event('2-0', 'b', 'a')]);
    expect(outline(buildFlowTree(nodes))).toEqual([{ a: ['b'] }]);
  });

  it('hangs the children of an event delivered twice (same id) under its first entry', () => {
    const nodes = flowNodes([event('1-0', 'a', null), event('2-0', 'a', null), event('3-0', 'b', 'a')]);
    expect(outline(buildFlowTree(nodes))).toEqual([{ a: ['b'] }, 'a']);
  });
});

describe('flowNodes', () => {
  it('adds an event known only from its dead letter (trimmed before it was indexed), once', () => {
    const nodes = flowNodes([
      dead({ entryId: '5-0', id: 'gone', group: 'a' }),
      dead({ entryId: '5-0', id: 'gone', group: 'b' }),
      event('10-0', 'a', null),
    ]);
    expect(nodes.map((n) => [n.entryId, n.eventId])).toEqual([
      ['5-0', 'gone'],
      ['10-0', 'a'],
    ]);
  });

  it('does not add a node for a dead letter of a redriven copy (another entry id, same event)', () => {
    expect(flowNodes([event('10-0', 'a', null), dead({ entryId: '99-0', id: 'a' })])).toHaveLength(1);
  });
});

describe('groupStatus', () => {
  const base = { group: 'payment', lastDeliveredId: '10-0', marker: null };

  it('handled, with when and after how many deliveries from the marker; an old marker (1) says only handled', () => {
    expect(groupStatus('10-0', { ...base, marker: '1736154001000:3' })).toEqual({
      group: 'payment',
      status: 'handled',
      handledAt: '2025-01-06T09:00:01.000Z',
      attempts: 3,
      consumer: null,
      idleMs: null,
    });
    expect(groupStatus('10-0', { ...base, marker: '1' })).toMatchObject({
      status: 'handled',
      handledAt: null,
      attempts: null,
    });
  });

  it('handled at its first delivery: a claim whose entry is no longer pending, handled when it was claimed', () => {
    expect(groupStatus('10-0', { ...base, marker: '~l10-0@1736154001000' })).toEqual({
      group: 'payment',
      status: 'handled',
      handledAt: '2025-01-06T09:00:01.000Z',
      attempts: 1,
      consumer: null,
      idleMs: null,
    });
    expect(
      groupStatus('10-0', { ...base, marker: '~l10-0@1736154001000', pending: ['10-0', 'api-1', 1500, 1] }),
    ).toMatchObject({ status: 'pending', consumer: 'api-1' });
    expect(
      groupStatus('10-0', {
        ...base,
        marker: '~l10-0@1736154001000',
        deadLetter: dead({ entryId: '10-0', id: 'x', group: 'payment' }),
      }),
    ).toMatchObject({ status: 'dead-lettered' });
  });

  it('pending, with the consumer holding it, its idle time and deliveries so far', () => {
    expect(groupStatus('10-0', { ...base, pending: ['10-0', 'api-1', 1500, 2] })).toMatchObject({
      status: 'pending',
      consumer: 'api-1',
      idleMs: 1500,
      attempts: 2,
    });
  });

  it('dead-lettered, with the dead letter; handled after a redrive keeps the dead letter', () => {
    const letter = {
      id: '20-0',
      reason: 'handler-failed',
      error: 'boom',
      handler: 'H.h',
      attempts: 5,
      deadLetteredAt: '2025-01-06T09:00:05.000Z',
    };
    expect(groupStatus('10-0', { ...base, deadLetter: dead() })).toEqual({
      group: 'payment',
      status: 'dead-lettered',
      handledAt: null,
      attempts: 5,
      consumer: 'c1',
      idleMs: null,
      deadLetter: letter,
    });
    expect(groupStatus('10-0', { ...base, marker: '1736154009000:1', deadLetter: dead() })).toMatchObject({
      status: 'handled',
      attempts: 1,
      deadLetter: letter,
    });
  });

  it('acknowledged at or before the group position, not delivered yet after it', () => {
    expect(groupStatus('10-0', base).status).toBe('acknowledged');
    expect(groupStatus('9-5', base).status).toBe('acknowledged');
    expect(groupStatus('10-1', base).status).toBe('not-delivered-yet');
  });
});
