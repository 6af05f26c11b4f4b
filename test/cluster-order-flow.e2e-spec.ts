import type { INestApplication } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import request from 'supertest';
import { EventBusCore } from '@nest-streams/event-bus';
import { AnalyticsModule } from '@app/analytics';
import { EmailModule } from '@app/email';
import { InventoryModule } from '@app/inventory';
import { LoyaltyModule } from '@app/loyalty';
import { OrderModule } from '@app/order';
import { PaymentModule } from '@app/payment';
import { createTestPlatformApp } from './support/platform-app';
import { RedisCluster } from './support/redis-cluster';
import { waitFor } from './support/redis';

/**
 * The shop on a real 3-master Redis Cluster (REDIS_URL = the seeds, REDIS_CLUSTER=true): the bus,
 * the services' state and BullMQ's queues all under the namespace's hash tag, one slot, so every
 * MULTI, script and pipeline of theirs is legal there.
 */
describe('the shop on Redis Cluster (3 masters)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let app: INestApplication;
  const ns = `cl${Date.now().toString(36)}`;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3 });
    client = cluster.client();
    ({ app } = await createTestPlatformApp(
      [OrderModule, InventoryModule, PaymentModule, EmailModule, LoyaltyModule, AnalyticsModule],
      {
        namespace: ns,
        env: { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true', EMAIL_RETRY_DELAY_MS: '50' },
      },
    ));
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    delete process.env.REDIS_CLUSTER;
    await cluster?.destroy();
  });

  async function finalStatus(orderId: string): Promise<string> {
    let status = '';
    await waitFor(
      `order ${orderId} final`,
      async () => {
        status = (await http().get(`/orders/${orderId}`)).body.status;
        return status === 'Confirmed' || status === 'Cancelled';
      },
      20_000,
    );
    return status;
  }

  it('confirms and cancels orders: stock, mails, points and analytics as on one Redis', async () => {
    expect(app.get(EventBusCore).cluster).toBe(true);
    const place = async (userId: string, items: Array<{ sku: string; quantity: number }>) =>
      (
        await http()
          .post('/orders')
          .send({ userId, email: `${userId}@example.com`, items })
          .expect(201)
      ).body.orderId as string;
    const before = (await http().get('/inventory/SKU-MUG').expect(200)).body.available as number;
    const paid = await place('cl-ada', [{ sku: 'SKU-MUG', quantity: 2 }]);
    const declined = await place('declined-cl-bob', [{ sku: 'SKU-MUG', quantity: 1 }]);
    expect(await finalStatus(paid)).toBe('Confirmed');
    expect(await finalStatus(declined)).toBe('Cancelled');
    await waitFor(
      'two mails',
      async () =>
        ((await http().get('/emails').expect(200)).body as Array<{ orderId: string }>).filter((m) =>
          [paid, declined].includes(m.orderId),
        ).length === 2,
      20_000,
    );
    await waitFor(
      'stock settled',
      async () => (await http().get('/inventory/SKU-MUG').expect(200)).body.available === before - 2,
      20_000,
    );
    await waitFor('points', async () => (await http().get('/loyalty/cl-ada').expect(200)).body.points === 25, 20_000);
    expect((await http().get('/loyalty/declined-cl-bob').expect(200)).body.points).toBe(0);
    await waitFor(
      'analytics',
      async () => {
        const s = (await http().get('/analytics/summary').expect(200)).body as {
          ordersConfirmed: number;
          ordersCancelled: { total: number };
        };
        return s.ordersConfirmed === 1 && s.ordersCancelled.total === 1;
      },
      20_000,
    );
  });

  it("keeps every key of the namespace in its hash tag's slot, on one master", async () => {
    const slot = Number(await client.cluster('KEYSLOT', `{${ns}}`));
    const keys: string[] = [];
    for (const node of client.nodes('master')) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `*${ns}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
    }
    expect(keys.length).toBeGreaterThan(20);
    expect(keys.filter((k) => !k.startsWith(`{${ns}}:`))).toEqual([]);
    const slots = new Set(
      await Promise.all(keys.slice(0, 50).map(async (k) => Number(await client.cluster('KEYSLOT', k)))),
    );
    expect([...slots]).toEqual([slot]);
    // The streams, the services' state and BullMQ's queue are all there.
    expect(keys).toEqual(expect.arrayContaining([`{${ns}}:{orders}`, `{${ns}}:{payments}`]));
    expect(keys.some((k) => k.startsWith(`{${ns}}:svc:order:`))).toBe(true);
    expect(keys.some((k) => k.startsWith(`{${ns}}:bull:email`))).toBe(true);
  });
});
