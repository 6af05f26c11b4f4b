import Redis from 'ioredis';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { testKeys, waitFor } from '../../../test/support/redis';
import { RedisServer } from '../../../test/support/redis-server';
import { launchChromium, openWatchedPage, signIn, WatchedPage, withConsoleBuild } from './support/console-browser';
import { createOpsTestApp, OpsTestApp, READER_KEY } from './support/ops-app';

/** The console while its Redis is gone: a banner on the live overview, not a blank page, and back by itself. */
describe('console while Redis is down', () => {
  let server: RedisServer;
  let platform: OpsTestApp;
  let browser: Browser;
  let watched: WatchedPage | undefined;
  let tailPage: WatchedPage | undefined;

  beforeAll(async () => {
    // NOTE: an AOF written at every command, so that the session survives the SIGKILL below.
    server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    platform = await withConsoleBuild((assets) =>
      createOpsTestApp({ env: { REDIS_URL: server.url, CONSOLE_ASSETS_DIR: assets, CONSOLE_SAMPLE_MS: '300' } }),
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await watched?.context.close();
    await tailPage?.context.close();
    await browser?.close();
    // NOTE: closing while Redis is down waits for it (BullMQ's connections), so a failed test brings it back first.
    if (server && !server.running) await server.boot();
    await platform?.app.close();
    await server?.destroy();
  });

  it('shows that Redis is unreachable on the live overview, and resumes when it is back', async () => {
    watched = await openWatchedPage(browser);
    const { page } = watched;
    await signIn(page, platform.url, READER_KEY);
    await page.locator('article[data-stream="orders"]').waitFor();

    await server.kill();
    const banner = page.getByRole('alert').filter({ hasText: 'Redis is unreachable' });
    await banner.waitFor({ timeout: 15_000 });
    // The last figures stay on the page under the banner.
    await page.locator('article[data-stream="orders"]').waitFor();

    await server.boot();
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await page.locator('[data-live="live"]').waitFor();
    // Still signed in (the session is in the AOF), on the same page.
    expect(await page.evaluate(`fetch('/console/api/session').then((r) => r.json())`)).toMatchObject({
      signedIn: true,
      role: 'reader',
    });
    await page.getByText('Reader: read only').waitFor();
    expect(await watched.problems()).toEqual([]);
  });

  it("shows it on a stream's page too, and its live tail goes on where it stopped once Redis is back", async () => {
    const redis = new Redis(server.url);
    const key = testKeys(platform.namespace).stream('orders');
    /** Places an order, retrying while the platform reconnects to Redis. */
    const placeOrder = async (userId: string): Promise<void> =>
      waitFor(
        `order of ${userId} accepted`,
        async () =>
          (
            await request(platform.url)
              .post('/orders')
              .send({ userId, email: 'ada@example.com', items: [{ sku: 'SKU-MUG', quantity: 1 }] })
          ).status === 201,
        20_000,
      );
    try {
      tailPage = await openWatchedPage(browser);
      const { page } = tailPage;
      await signIn(page, platform.url, READER_KEY);
      await page.locator('article[data-stream="orders"]').getByRole('link', { name: 'orders' }).click();
      const tail = page.locator('section.tail');
      await tail.getByRole('button', { name: 'Start the tail' }).click();
      await tail.locator('[data-tail="live"]').waitFor();
      const start = (await redis.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
      const shown = () =>
        tail.locator('tbody tr[data-entry]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-entry')!));
      const showsAll = async (what: string) => {
        let expected: string[] = [];
        let seen: string[] = [];
        await waitFor(
          what,
          async () => {
            expected = (await redis.xrange(key, `(${start}`, '+')).map(([id]) => id).reverse();
            seen = await shown();
            return expected.length > 0 && JSON.stringify(seen) === JSON.stringify(expected);
          },
          15_000,
        ).catch((error: Error) => {
          throw new Error(`${error.message}\nshown:    ${seen.join(' ')}\nexpected: ${expected.join(' ')}`);
        });
        return expected;
      };
      await placeOrder('before-the-outage');
      const before = await showsAll('the first order in the tail');

      // An order written just before Redis goes, likely before the tail's next read: it must come after the outage.
      await placeOrder('just-before-the-outage');
      await server.kill();
      const banner = page.getByRole('alert').filter({ hasText: 'Redis is unreachable' });
      await banner.waitFor({ timeout: 15_000 });
      // What the tail showed stays on the page.
      expect(await shown()).toEqual(expect.arrayContaining(before));

      await server.boot();
      await banner.waitFor({ state: 'detached', timeout: 20_000 });
      await placeOrder('after-the-outage');
      const after = await showsAll('every entry since the tail started, once each');
      expect(after.length).toBeGreaterThan(before.length);
      expect(await tailPage.problems()).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
