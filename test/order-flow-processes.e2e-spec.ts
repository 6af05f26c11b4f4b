import { ServiceProcess } from './support/service-process';
import { testNamespace, waitFor } from './support/redis';

/**
 * The order flow with every service as its own OS process (its own main.ts, port and consumer),
 * as docker-compose runs them; and a service that was offline while orders were placed
 * catching up when it starts. On the run's Redis (every test topology: ServiceProcess passes it on).
 */
describe('order flow with each service in its own process', () => {
  const ns = testNamespace('procs');
  const env = { EVENT_BUS_NAMESPACE: ns, CONSUMER_BLOCK_MS: '200', EMAIL_RETRY_DELAY_MS: '50' };
  const procs: Record<string, ServiceProcess> = {};

  beforeAll(async () => {
    // loyalty stays offline for now: it must catch up later.
    const started = await Promise.all(
      ['order', 'inventory', 'payment', 'email', 'analytics'].map((s) =>
        ServiceProcess.start(s, { ...env, CONSUMER_NAME: `${s}-1` }),
      ),
    );
    for (const p of started) procs[p.service] = p;
  }, 120_000);

  afterAll(async () => {
    await ServiceProcess.stopAll();
  });

  const get = async <T>(service: string, path: string): Promise<T> =>
    (await (await fetch(`${procs[service].url}${path}`)).json()) as T;

  async function place(userId: string, sku: string): Promise<string> {
    const res = await fetch(`${procs.order.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, email: `${userId}@example.com`, items: [{ sku, quantity: 1 }] }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { orderId: string }).orderId;
  }

  async function statusOf(orderId: string): Promise<string> {
    let status = '';
    await waitFor(
      `order ${orderId} settled`,
      async () => {
        status = (await get<{ status: string }>('order', `/orders/${orderId}`)).status;
        return status !== 'Pending';
      },
      20_000,
    );
    return status;
  }

  it('confirms and cancels orders across processes, and an offline service catches up when it starts', async () => {
    const paid = await place('proc-ann', 'SKU-PEN');
    const declined = await place('declined-proc-ben', 'SKU-MUG');
    expect(await statusOf(paid)).toBe('Confirmed');
    expect(await statusOf(declined)).toBe('Cancelled');
    await waitFor(
      'two mails',
      async () =>
        (await get<Array<{ orderId: string }>>('email', '/emails')).filter((m) => [paid, declined].includes(m.orderId))
          .length === 2,
    );
    const stock = await get<{ available: number; reserved: number }>('inventory', '/inventory/SKU-PEN');
    expect(stock.available).toBe(9);
    await waitFor('analytics counted both', async () => {
      const s = await get<{ ordersConfirmed: number; ordersCancelled: { total: number } }>(
        'analytics',
        '/analytics/summary',
      );
      return s.ordersConfirmed === 1 && s.ordersCancelled.total === 1;
    });

    // loyalty was down the whole time: the PaymentSucceeded it missed is waiting in its group.
    procs.loyalty = await ServiceProcess.start('loyalty', { ...env, CONSUMER_NAME: 'loyalty-1' });
    await waitFor(
      'loyalty caught up',
      async () => (await get<{ points: number }>('loyalty', '/loyalty/proc-ann')).points === 45,
      20_000,
    );
    expect((await get<{ points: number }>('loyalty', '/loyalty/declined-proc-ben')).points).toBe(0);
  }, 120_000);
});
