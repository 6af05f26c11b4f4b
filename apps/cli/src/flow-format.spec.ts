import { flowText, groupLines } from './flow-format';
import type { FlowGroup, FlowNode, FlowView } from './ops.types';

const group = (over: Partial<FlowGroup> & { group: string }): FlowGroup => ({
  status: 'acknowledged',
  handledAt: null,
  attempts: null,
  consumer: null,
  idleMs: null,
  ...over,
});

const node = (over: Partial<FlowNode> & { eventId: string; type: string }): FlowNode => ({
  stream: 'orders',
  entryId: '1736154000000-0',
  version: 1,
  source: 'order-service',
  subject: 'ORD-1',
  time: '2025-01-06T09:00:00.000Z',
  causationId: null,
  groups: [],
  children: [],
  ...over,
});

describe('flowText', () => {
  it('draws the causation tree, each event with its groups under it', () => {
    const view: FlowView = {
      correlationId: 'evt-1',
      resolvedFrom: 'subject',
      events: 3,
      truncated: false,
      otherCorrelationIds: ['evt-0'],
      tree: [
        node({
          eventId: 'evt-1',
          type: 'OrderPlaced',
          version: 2,
          groups: [
            group({ group: 'payment', status: 'handled', attempts: 1, handledAt: '2025-01-06T09:00:00.100Z' }),
            group({ group: 'email' }),
          ],
          children: [
            node({
              eventId: 'ORD-1:reserved',
              type: 'InventoryReserved',
              stream: 'inventory',
              entryId: '1736154000050-0',
              source: 'inventory-service',
              causationId: 'evt-1',
              groups: [],
            }),
            node({
              eventId: 'ORD-1:paid',
              type: 'PaymentSucceeded',
              stream: 'payments',
              entryId: '1736154000060-0',
              source: 'payment-service',
              causationId: 'evt-1',
              groups: [group({ group: 'order', status: 'pending', attempts: 2, consumer: 'api-7', idleMs: 1500 })],
            }),
          ],
        }),
      ],
    };
    expect(flowText('ORD-1', view).split('\n')).toEqual([
      'flow evt-1 (latest flow about ORD-1): 3 events',
      'other flows about ORD-1: evt-0',
      '',
      'OrderPlaced v2  orders 1736154000000-0  2025-01-06T09:00:00.000Z  order-service  id evt-1',
      '│  payment  handled       1 attempt  at 2025-01-06T09:00:00.100Z',
      '│  email    acknowledged',
      '├─ InventoryReserved v1  inventory 1736154000050-0  2025-01-06T09:00:00.000Z  inventory-service  id ORD-1:reserved',
      '│     (no consumer group reads this stream)',
      '└─ PaymentSucceeded v1  payments 1736154000060-0  2025-01-06T09:00:00.000Z  payment-service  id ORD-1:paid',
      '      order  pending  2 attempts  consumer api-7  idle 1.5s',
    ]);
  });

  it('says how the id was found, and when the view is cut', () => {
    const view: FlowView = {
      correlationId: 'c',
      resolvedFrom: 'event-id',
      events: 1,
      truncated: true,
      otherCorrelationIds: [],
      tree: [node({ eventId: 'e', type: 'T' })],
    };
    expect(flowText('e', view).split('\n')[0]).toBe('flow c (the flow of event e): 1 event, only the oldest shown');
    expect(flowText('c', { ...view, resolvedFrom: 'correlation-id', truncated: false }).split('\n')[0]).toBe(
      'flow c: 1 event',
    );
  });
});

describe('groupLines', () => {
  it('a dead letter: reason, error (cut), its id; after a redrive that was handled: which one', () => {
    const letter = {
      id: '1736154005000-0',
      reason: 'handler-failed',
      error: `gateway down ${'x'.repeat(100)}`,
      handler: 'H.h',
      attempts: 5,
      deadLetteredAt: null,
    };
    const [dead, redriven] = groupLines([
      group({ group: 'payment', status: 'dead-lettered', attempts: 5, consumer: 'api-1', deadLetter: letter }),
      group({ group: 'loyalty', status: 'handled', attempts: 1, deadLetter: letter }),
    ]);
    expect(dead).toMatch(
      /^payment {2}dead-lettered {2}5 attempts {2}handler-failed: gateway down x+… {2}\(dead letter 1736154005000-0\)$/,
    );
    expect(dead).toContain(`: gateway down ${'x'.repeat(66)}…  (`);
    expect(redriven).toBe('loyalty  handled        1 attempt   (after dead letter 1736154005000-0, handler-failed)');
  });
});
