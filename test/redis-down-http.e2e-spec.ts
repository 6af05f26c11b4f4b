import request from 'supertest';
import { createOpsTestApp, OpsTestApp, OPERATOR_KEY, READER_KEY } from '../apps/api/test/support/ops-app';
import { RedisServer } from './support/redis-server';

/**
 * HTTP while Redis is gone: every route that needs Redis answers 503 with `Retry-After` and the
 * usual error shape (not a 500, not a hang), the process keeps serving, and the same requests
 * succeed once Redis is back.
 */
describe('HTTP while Redis is down', () => {
  let server: RedisServer;
  let platform: OpsTestApp;
  let closed = false;
  const http = (): ReturnType<typeof request> => request(platform.app.getHttpServer());
  const asReader = { 'x-api-key': READER_KEY };
  const asOperator = { 'x-api-key': OPERATOR_KEY };

  beforeAll(async () => {
    server = await RedisServer.start();
    platform = await createOpsTestApp({ env: { REDIS_URL: server.url, OPS_RATE_LIMIT: '10000' } });
  }, 30_000);

  afterAll(async () => {
    // NOTE: closing while Redis is down waits for it (BullMQ's connections), so a failed test brings it back first.
    if (server && !server.running) await server.boot();
    if (!closed) await platform?.app.close();
    await server?.destroy();
  });

  it('answers 503 with Retry-After on reads, publishes and commands while Redis is gone, and serves again once it is back', async () => {
    await http().get('/ops/streams').set(asReader).expect(200);
    await http().get('/orders/ORD-NOPE-000000').expect(404);

    // Tried: SIGKILL the redis-server under the app, then ops reads, service reads (one through
    // BullMQ), an ops publish and a replay command (BullMQ), all at once, against a deadline.
    await server.kill();
    const began = Date.now();
    const calls = await Promise.all([
      http().get('/ops/streams').set(asReader),
      http().get('/ops/streams/orders/groups').set(asReader),
      http().get('/orders/ORD-NOPE-000000'),
      http().get('/emails/failed'),
      http()
        .post('/ops/events')
        .set(asOperator)
        .send({
          type: 'InventoryReleased',
          data: {
            orderId: 'ORD-DOWN-000001',
            lines: [{ sku: 'SKU-DOWN', quantity: 1 }],
            releasedAt: new Date().toISOString(),
          },
        }),
      http()
        .post('/ops/replays')
        .set(asOperator)
        .send({ stream: 'orders', target: { kind: 'handlers', group: 'analytics' }, dryRun: true }),
    ]);
    const took = Date.now() - began;
    const path = (res: (typeof calls)[number]): string => (res as unknown as { req: { path: string } }).req.path;
    // NOTE: a status other than 503 shows with its message.
    expect(calls.map((res) => [path(res), res.status, res.status === 503 ? '' : res.body.message])).toEqual(
      calls.map((res) => [path(res), 503, '']),
    );
    for (const res of calls) {
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toMatchObject({
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.stringMatching(/redis/i),
      });
    }
    expect(took).toBeLessThan(8_000);

    await server.boot();
    // NOTE: the bus's client and BullMQ's reconnect on their own schedules: wait for both.
    const deadline = Date.now() + 15_000;
    let statuses: number[] = [];
    while (Date.now() < deadline && statuses.join() !== '200,200') {
      statuses = [(await http().get('/ops/streams').set(asReader)).status, (await http().get('/emails/failed')).status];
      if (statuses.join() !== '200,200') await new Promise((r) => setTimeout(r, 200));
    }
    expect(statuses).toEqual([200, 200]);
    await http().get('/orders/ORD-NOPE-000000').expect(404);
    await http()
      .post('/ops/events')
      .set(asOperator)
      .send({
        type: 'InventoryReleased',
        data: {
          orderId: 'ORD-DOWN-000002',
          lines: [{ sku: 'SKU-DOWN', quantity: 1 }],
          releasedAt: new Date().toISOString(),
        },
      })
      .expect(201);
    await http()
      .post('/ops/replays')
      .set(asOperator)
      .send({ stream: 'orders', target: { kind: 'handlers', group: 'analytics' }, dryRun: true })
      .expect(202);
  }, 60_000);

  it('shuts down within seconds while Redis is gone', async () => {
    // Tried: SIGKILL the redis-server, then close the whole platform app (consumers, the flow
    // indexer, BullMQ workers and queues). It used to wait for Redis forever: a read queued on a
    // reconnecting client never failed, and a graceful BullMQ worker close waits for Redis.
    await server.kill();
    const began = Date.now();
    await platform.app.close();
    closed = true;
    const took = Date.now() - began;
    console.log(`platform app closed in ${took} ms with Redis down`);
    expect(took).toBeLessThan(15_000);
  }, 30_000);
});
