import { Injectable, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { OrderPlaced } from '@app/contracts';
import { compareIds } from '@nest-streams/event-bus/utils/stream-ids';
import { encodeEnvelope, EventBusCore, EventBusModule, Subscribe } from '@nest-streams/event-bus';
import { createOpsTestApp, OpsTestApp } from '../apps/api/test/support/ops-app';
import { expectOpsError, opsClient } from '../apps/api/test/support/ops-client';
import { testRedisClient, waitFor } from './support/redis';
import { groupCaughtUp } from './support/streams';

/** Releases the audit handler of the order of user `slow`, which waits until then. */
let releaseSlow: () => void = () => undefined;
const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));

/** A test-only group on orders: fails every delivery of user `doomed`, holds user `slow` until released. */
@Injectable()
class AuditHandlers {
  @Subscribe(OrderPlaced)
  async onOrderPlaced(event: OrderPlaced): Promise<void> {
    if (event.userId === 'doomed') throw new Error('audit store refused the order');
    if (event.userId === 'slow') await slowReleased;
  }
}

@Module({
  imports: [
    EventBusModule.forFeature({
      group: 'audit',
      consumer: { retry: { maxAttempts: 2, initialDelayMs: 20, jitter: 0 } },
    }),
  ],
  providers: [AuditHandlers],
})
class AuditModule {}

const GROUPS: Record<string, string[]> = {
  orders: ['analytics', 'audit', 'email', 'inventory', 'payment', 'flow-index'],
  inventory: ['order', 'flow-index'],
  payments: ['loyalty', 'order', 'flow-index'],
};

interface Group {
  group: string;
  status: string;
  handledAt: string | null;
  attempts: number | null;
  consumer: string | null;
  idleMs: number | null;
  deadLetter?: Record<string, unknown>;
}

interface Node {
  stream: string;
  entryId: string;
  eventId: string;
  type: string;
  time: string;
  causationId: string | null;
  groups: Group[];
  children: Node[];
}

/** What a user reads off a node: the event, each group as `group status attempts`, the events it caused. */
interface Shape {
  event: string;
  groups: string[];
  children: Shape[];
}

const shape = (n: Node): Shape => ({
  event: `${n.stream} ${n.type} ${n.eventId} <- ${n.causationId ?? '-'}`,
  groups: n.groups.map((g) => `${g.group} ${g.status} ${g.attempts ?? '-'}`),
  children: n.children.map(shape),
});

const flat = (nodes: Node[]): Node[] => nodes.flatMap((n) => [n, ...flat(n.children)]);

/**
 * The flow view of the whole platform app (every service, the operations API, the flow indexer):
 * an order placed over HTTP, its flow read back over `/ops/flows/:id` as a user would.
 */
describe('flow view (GET /ops/flows/:id)', () => {
  let platform: OpsTestApp;
  let redis: Redis;
  let ops: ReturnType<typeof opsClient>;
  let ns: string;

  beforeAll(async () => {
    platform = await createOpsTestApp({
      extra: [AuditModule],
      env: { OPS_RATE_LIMIT: '100000', EMAIL_RETRY_DELAY_MS: '50' },
    });
    ns = platform.namespace;
    ops = opsClient(platform.url);
    redis = testRedisClient();
  });

  afterAll(async () => {
    releaseSlow();
    await platform?.app.close();
    redis?.disconnect();
  });

  /** Every group caught up, and the flow index too, dead letters included. */
  async function settled(): Promise<void> {
    await waitFor(
      'every group and the flow index caught up',
      async () => {
        for (const [stream, groups] of Object.entries(GROUPS)) {
          for (const group of groups) if (!(await groupCaughtUp(redis, ns, stream, group))) return false;
          const dlq = `${ns}:{${stream}}:dlq`;
          const [last] = await redis.xrevrange(dlq, '+', '-', 'COUNT', 1);
          const index = ((await redis.xinfo('GROUPS', dlq)) as unknown[][]).find((g) => g[1] === 'flow-index');
          if (
            last &&
            (!index ||
              index[index.indexOf('last-delivered-id') + 1] !== last[0] ||
              index[index.indexOf('pending') + 1] !== 0)
          )
            return false;
        }
        return true;
      },
      15_000,
    );
  }

  async function place(userId: string): Promise<string> {
    const res = await ops
      .post('/orders', { userId, email: `${userId}@example.com`, items: [{ sku: 'SKU-MUG', quantity: 2 }] })
      .expect(201);
    return res.body.orderId as string;
  }

  async function decided(orderId: string): Promise<string[]> {
    let history: string[] = [];
    await waitFor(`order ${orderId} decided`, async () => {
      const body = (await ops.get(`/orders/${orderId}`).expect(200)).body;
      history = (body.history as Array<{ type: string }>).map((h) => h.type);
      return body.status === 'Confirmed' || body.status === 'Cancelled';
    });
    return history;
  }

  /** The entry id and envelope fields of the event `eventId` in `stream`, from Redis itself. */
  async function entryOf(
    stream: string,
    eventId: string,
  ): Promise<{ entryId: string; fields: Record<string, string> }> {
    for (const [entryId, raw] of await redis.xrange(`${ns}:{${stream}}`, '-', '+')) {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < raw.length; i += 2) fields[raw[i]] = raw[i + 1];
      if (fields.id === eventId) return { entryId, fields };
    }
    throw new Error(`no event ${eventId} in ${stream}`);
  }

  /** The expected tree of a confirmed order: OrderPlaced -> InventoryReserved, PaymentSucceeded (entry order); OrderConfirmed under the one the saga decided on. */
  async function confirmedTree(orderId: string, placedId: string, history: string[], audit: string): Promise<Shape[]> {
    const reserved = { id: `${orderId}:reserved`, entry: (await entryOf('inventory', `${orderId}:reserved`)).entryId };
    const paid = {
      id: `${orderId}:payment-succeeded`,
      entry: (await entryOf('payments', `${orderId}:payment-succeeded`)).entryId,
    };
    const decider =
      history.lastIndexOf('InventoryReserved') > history.lastIndexOf('PaymentSucceeded') ? reserved.id : paid.id;
    const confirmed: Shape = {
      event: `orders OrderConfirmed ${orderId}:confirmed <- ${decider}`,
      groups: [
        'analytics handled 1',
        'audit acknowledged -',
        'email handled 1',
        'inventory acknowledged -',
        'payment acknowledged -',
      ],
      children: [],
    };
    const children: Array<Shape & { entry: string }> = [
      {
        entry: reserved.entry,
        event: `inventory InventoryReserved ${reserved.id} <- ${placedId}`,
        groups: ['order handled 1'],
        children: decider === reserved.id ? [confirmed] : [],
      },
      {
        entry: paid.entry,
        event: `payments PaymentSucceeded ${paid.id} <- ${placedId}`,
        groups: ['loyalty handled 1', 'order handled 1'],
        children: decider === paid.id ? [confirmed] : [],
      },
    ];
    children.sort((a, b) => compareIds(a.entry, b.entry));
    return [
      {
        event: `orders OrderPlaced ${placedId} <- -`,
        groups: ['analytics handled 1', audit, 'email acknowledged -', 'inventory handled 1', 'payment handled 1'],
        children: children.map(({ entry: _entry, ...rest }) => rest),
      },
    ];
  }

  it('shows the whole flow of a placed order, by order id, correlation id and event id', async () => {
    const started = Date.now();
    const orderId = await place('ada');
    const history = await decided(orderId);
    await settled();

    const byOrder = (await ops.get(`/ops/flows/${orderId}`).expect(200)).body;
    const placedId = byOrder.correlationId as string;
    const placed = await entryOf('orders', placedId);
    expect(placed.fields).toMatchObject({ type: 'OrderPlaced', subject: orderId, correlationid: placedId });
    expect({ ...byOrder, tree: undefined }).toEqual({
      correlationId: placedId,
      resolvedFrom: 'subject',
      events: 4,
      truncated: false,
      otherCorrelationIds: [],
    });
    expect(byOrder.tree.map(shape)).toEqual(await confirmedTree(orderId, placedId, history, 'audit handled 1'));

    // Every event as it is in its stream; every handled group says when.
    for (const node of flat(byOrder.tree)) {
      const { entryId, fields } = await entryOf(node.stream, node.eventId);
      expect(node).toMatchObject({
        entryId,
        time: fields.time,
        subject: orderId,
        version: Number(fields.version),
        source: fields.source,
      });
      for (const g of node.groups) {
        if (g.status !== 'handled') continue;
        expect(Date.parse(g.handledAt!)).toBeGreaterThanOrEqual(started - 5);
        expect(Date.parse(g.handledAt!)).toBeLessThanOrEqual(Date.now());
        expect(Date.parse(g.handledAt!)).toBeGreaterThanOrEqual(Date.parse(node.time) - 5);
      }
    }

    const byCorrelation = (await ops.get(`/ops/flows/${placedId}`).expect(200)).body;
    expect(byCorrelation.resolvedFrom).toBe('correlation-id');
    expect(byCorrelation.tree).toEqual(byOrder.tree);
    const byEvent = (await ops.get(`/ops/flows/${orderId}:payment-succeeded`, 'reader').expect(200)).body;
    expect([byEvent.resolvedFrom, byEvent.correlationId]).toEqual(['event-id', placedId]);
    expect(byEvent.tree).toEqual(byOrder.tree);
  });

  it('shows the group that gave an event up as dead-lettered, with reason, error, handler and attempts', async () => {
    const orderId = await place('doomed');
    const history = await decided(orderId);
    await settled();
    const view = (await ops.get(`/ops/flows/${orderId}`).expect(200)).body;
    expect(view.tree.map(shape)).toEqual(
      await confirmedTree(orderId, view.correlationId, history, 'audit dead-lettered 2'),
    );

    const [[deadLetterId]] = await redis.xrange(`${ns}:{orders}:dlq`, '-', '+');
    const audit = (view.tree[0] as Node).groups.find((g) => g.group === 'audit');
    expect(audit).toEqual({
      group: 'audit',
      status: 'dead-lettered',
      handledAt: null,
      attempts: 2,
      consumer: platform.app.get(EventBusCore).consumerName,
      idleMs: null,
      deadLetter: {
        id: deadLetterId,
        reason: 'handler-failed',
        error: expect.stringContaining('audit store refused the order'),
        handler: 'AuditHandlers.onOrderPlaced',
        attempts: 2,
        deadLetteredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });
  });

  it('shows an entry that breaks the contract, without correlation id, as a flow of its own, dead-lettered by the groups that handle its type', async () => {
    const id = randomUUID();
    const fields = encodeEnvelope({
      specversion: '1.0',
      id,
      type: 'OrderPlaced',
      version: 2,
      source: 'foreign-service',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { orderId: 'ORD-RAW-1' },
      subject: 'ORD-RAW-1',
    });
    const entryId = (await redis.xadd(`${ns}:{orders}`, '*', ...fields))!;
    await settled();
    const view = (await ops.get(`/ops/flows/${id}`).expect(200)).body;
    expect([view.correlationId, view.resolvedFrom, view.events]).toEqual([id, 'correlation-id', 1]);
    expect(view.tree.map(shape)).toEqual([
      {
        event: `orders OrderPlaced ${id} <- -`,
        groups: [
          'analytics dead-lettered 1',
          'audit dead-lettered 1',
          'email acknowledged -',
          'inventory dead-lettered 1',
          'payment dead-lettered 1',
        ],
        children: [],
      },
    ]);
    expect(view.tree[0]).toMatchObject({ entryId, source: 'foreign-service', subject: 'ORD-RAW-1' });
    expect((view.tree[0] as Node).groups.filter((g) => g.deadLetter).map((g) => g.deadLetter!.reason)).toEqual(
      Array(4).fill('invalid-payload'),
    );
  });

  it('finds an event by an id that is neither its correlation id nor derived from its subject', async () => {
    const correlationId = randomUUID();
    const id = randomUUID();
    const fields = encodeEnvelope({
      specversion: '1.0',
      id,
      type: 'ParcelNoted',
      version: 1,
      source: 'foreign-service',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { note: 'x' },
      subject: 'ORD-RAW-2',
      correlationid: correlationId,
      causationid: correlationId,
    });
    const entryId = (await redis.xadd(`${ns}:{orders}`, '*', ...fields))!;
    await settled();
    const byEvent = (await ops.get(`/ops/flows/${id}`).expect(200)).body;
    expect([byEvent.correlationId, byEvent.resolvedFrom, byEvent.events]).toEqual([correlationId, 'event-id', 1]);
    expect(byEvent.tree[0]).toMatchObject({ entryId, eventId: id, causationId: correlationId, subject: 'ORD-RAW-2' });
    const byCorrelation = (await ops.get(`/ops/flows/${correlationId}`).expect(200)).body;
    expect(byCorrelation.tree).toEqual(byEvent.tree);
  });

  it('shows a delivery in progress as pending with its consumer, then as handled', async () => {
    const orderId = await place('slow');
    await decided(orderId);
    const auditOf = async (): Promise<Group> => {
      const view = (await ops.get(`/ops/flows/${orderId}`).expect(200)).body;
      return (view.tree[0] as Node).groups.find((g) => g.group === 'audit')!;
    };
    let audit = await auditOf();
    await waitFor('audit pending', async () => (audit = await auditOf()).status === 'pending');
    expect(audit).toEqual({
      group: 'audit',
      status: 'pending',
      handledAt: null,
      attempts: 1,
      consumer: platform.app.get(EventBusCore).consumerName,
      idleMs: expect.any(Number),
    });
    releaseSlow();
    await waitFor('audit handled', async () => (audit = await auditOf()).status === 'handled');
    expect(audit).toMatchObject({ status: 'handled', attempts: 1, consumer: null, idleMs: null });
  });

  it('keeps showing a flow after its entries were trimmed, and a group created since as not delivered yet', async () => {
    const orderId = await place('bea');
    await decided(orderId);
    await settled();
    const before = (await ops.get(`/ops/flows/${orderId}`).expect(200)).body;
    await ops.post('/ops/streams/orders/groups', { group: 'late', startFrom: 'beginning' }).expect(201);
    await redis.xdel(`${ns}:{orders}`, (before.tree[0] as Node).entryId);

    const after = (await ops.get(`/ops/flows/${orderId}`).expect(200)).body;
    expect(after.events).toBe(4);
    expect(flat(after.tree).map((n) => n.type)).toEqual(flat(before.tree).map((n) => n.type));
    const late = flat(after.tree)
      .filter((n) => n.stream === 'orders')
      .map((n) => n.groups.find((g) => g.group === 'late')?.status);
    expect(late).toEqual(['not-delivered-yet', 'not-delivered-yet']);
  });

  it('answers 404 for an id no flow has, 400 for a malformed one, 401 without a key; documents the response', async () => {
    const missing = await ops.get('/ops/flows/ORD-NOPE-000000').expect(404);
    expectOpsError(missing.body, 404);
    expect(missing.body.message).toContain('no flow found for "ORD-NOPE-000000"');
    for (const bad of ['a%20b', '%7Bx%7D', 'x'.repeat(257), 'a*b'])
      expectOpsError((await ops.get(`/ops/flows/${bad}`).expect(400)).body, 400);
    expectOpsError((await ops.get('/ops/flows/ORD-NOPE-000000', 'none').expect(401)).body, 401);
    const doc = (await ops.get('/docs-json').expect(200)).body;
    expect(doc.paths['/ops/flows/{id}'].get.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/FlowViewDto',
    );
  });
});
