import request from 'supertest';
import { RedisCluster } from '../../../test/support/redis-cluster';
import { waitFor } from '../../../test/support/redis';
import { createOpsTestApp, OpsTestApp, OPERATOR_KEY, READER_KEY } from './support/ops-app';

/**
 * The all-in-one platform app (`npm start`: the shop, the flow index, the operations API) on a
 * real 3-master Redis Cluster, through HTTP.
 */
describe('the platform app on Redis Cluster (3 masters)', () => {
  let cluster: RedisCluster;
  let platform: OpsTestApp;
  const ops = () => request(platform.url);

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3 });
    platform = await createOpsTestApp({
      env: { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true', EMAIL_RETRY_DELAY_MS: '50' },
    });
  }, 60_000);

  let closed = false;

  afterAll(async () => {
    if (!closed) await platform?.app.close();
    delete process.env.REDIS_CLUSTER;
    await cluster?.destroy();
  });

  it('is ready, places an order, and the ops API shows its flow, streams, groups and dead letters', async () => {
    const ready = await ops().get('/health/ready').expect(200);
    expect(ready.body.details.redis.status).toBe('up');
    const placed = await ops()
      .post('/orders')
      .send({ userId: 'cl-ops', email: 'cl-ops@example.com', items: [{ sku: 'SKU-PEN', quantity: 1 }] })
      .expect(201);
    const orderId = placed.body.orderId as string;
    await waitFor('confirmed', async () => (await ops().get(`/orders/${orderId}`)).body.status === 'Confirmed', 20_000);

    let flow: { events: number; tree: unknown[] } = { events: 0, tree: [] };
    await waitFor(
      'the flow indexed',
      async () => {
        const res = await ops().get(`/ops/flows/${orderId}`).set('x-api-key', READER_KEY);
        flow = res.body;
        return res.status === 200 && flow.events >= 4;
      },
      20_000,
    );
    expect(JSON.stringify(flow.tree)).toContain('OrderConfirmed');

    const streams = (await ops().get('/ops/streams').set('x-api-key', READER_KEY).expect(200)).body as Array<{
      stream: string;
      length: number;
    }>;
    expect(streams.find((s) => s.stream === 'orders')?.length).toBeGreaterThanOrEqual(2);
    const groups = (await ops().get('/ops/streams/orders/groups').set('x-api-key', READER_KEY).expect(200))
      .body as Array<{ group: string; pending: number }>;
    expect(groups.map((g) => g.group)).toEqual(
      expect.arrayContaining(['inventory', 'payment', 'email', 'analytics', 'flow-index']),
    );
    await ops().get('/ops/streams/orders/dead-letters').set('x-api-key', READER_KEY).expect(200);
    // A write through the operations API: an operator's event lands in the stream, where the shop handles it.
    const item = { sku: 'SKU-PEN', name: 'Pen', unitPrice: 3.5, quantity: 1 };
    const data = {
      orderId: 'ORD-CLUSTER-X',
      userId: 'u',
      userEmail: 'u@example.com',
      items: [item],
      total: 3.5,
      currency: 'EUR',
      reason: 'payment-declined',
      detail: 'test',
      cancelledAt: new Date().toISOString(),
    };
    const published = await ops()
      .post('/ops/events')
      .set('x-api-key', OPERATOR_KEY)
      .send({ type: 'OrderCancelled', data })
      .expect(201);
    expect(published.body).toMatchObject({ stream: 'orders', entryId: expect.stringMatching(/^\d+-\d+$/) });
  });

  it('is not ready while a master that holds slots is dead (no replica takes over), and still shuts down in bounded time', async () => {
    // What is tried: SIGKILL one of the three masters (no replicas: its slots stay uncovered).
    // Must hold: readiness answers 503 from the first probe that sees it until the end (no flapping
    // back to 200 while the dead master still owns slots), naming the problem; app.close() returns
    // within a bound although commands to those slots cannot run.
    expect((await ops().get('/health/ready')).status).toBe(200);
    const victim = cluster.masters[1].port;
    await cluster.kill(victim);
    await waitFor('readiness down', async () => (await ops().get('/health/ready')).status === 503, 10_000);
    const probes: number[] = [];
    const reasons = new Set<string>();
    for (let i = 0; i < 15; i++) {
      const res = await ops().get('/health/ready');
      probes.push(res.status);
      if (res.status === 503)
        reasons.add(String(res.body?.details?.redis?.error ?? res.body?.error?.redis?.error ?? ''));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(probes.filter((status) => status !== 503)).toEqual([]);
    expect([...reasons].join(' | ')).toMatch(/master|state|answer/);

    const began = Date.now();
    await platform.app.close();
    closed = true;
    expect(Date.now() - began).toBeLessThan(45_000);
  }, 90_000);
});
