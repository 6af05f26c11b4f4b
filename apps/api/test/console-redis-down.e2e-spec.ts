import type { Browser } from 'playwright-core';
import { RedisServer } from '../../../test/support/redis-server';
import { launchChromium, openWatchedPage, signIn, WatchedPage, withConsoleBuild } from './support/console-browser';
import { createOpsTestApp, OpsTestApp, READER_KEY } from './support/ops-app';

/** The console while its Redis is gone: a banner on the live overview, not a blank page, and back by itself. */
describe('console while Redis is down', () => {
  let server: RedisServer;
  let platform: OpsTestApp;
  let browser: Browser;
  let watched: WatchedPage | undefined;

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
});
