import { createServer, get, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Redis from 'ioredis';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { deadLetterCount, testRedisClient, waitFor } from '../../../test/support/redis';
import { xaddEvent } from '../../../test/support/streams';
import { CONSOLE_CSP } from '../src/console/assets/console-assets.controller';
import { SESSION_COOKIE } from '../src/console/console.constants';
import {
  launchChromium,
  openWatchedPage,
  screenshot,
  signIn,
  WatchedPage,
  withConsoleBuild,
} from './support/console-browser';
import { createOpsTestApp, OpsTestApp, OPERATOR_KEY, READER_KEY } from './support/ops-app';

const SAMPLE_MS = 250;
/** The console's script, minified: Preact and the screens. */
const BUNDLE_BUDGET = 60_000;

/** The operations console in Debian's Chromium against the whole platform app on the run's Redis. */
describe('operations console', () => {
  let platform: OpsTestApp;
  let browser: Browser;
  let redis: Redis;
  const pages: WatchedPage[] = [];

  /** A new watched page (fresh cookies and storage); each is checked for errors and CSP violations after its test. */
  async function newPage(): Promise<WatchedPage> {
    const page = await openWatchedPage(browser);
    pages.push(page);
    return page;
  }

  /** The session cookie the browser holds. */
  async function sessionCookieOf(page: WatchedPage): Promise<string | undefined> {
    return (await page.context.cookies()).find((c) => c.name === SESSION_COOKIE)?.value;
  }

  /** The overview card of a stream. */
  const card = (page: WatchedPage, stream: string) => page.page.locator(`article[data-stream="${stream}"]`);
  const figure = async (page: WatchedPage, stream: string, field: string): Promise<number> =>
    Number((await card(page, stream).locator(`[data-field="${field}"]`).first().innerText()).replace(/[^\d.]/g, ''));

  /** The dead letters of orders once every group that handles the contract breaker has dead-lettered it. */
  async function settledDeadLetters(): Promise<number> {
    let last = -1;
    let stableSince = Date.now();
    await waitFor('the dead letters of orders settled', async () => {
      const now = await deadLetterCount(redis, platform.namespace, 'orders');
      if (now !== last) [last, stableSince] = [now, Date.now()];
      return now > 0 && Date.now() - stableSince > 1000;
    });
    return last;
  }

  beforeAll(async () => {
    platform = await withConsoleBuild((assets) =>
      createOpsTestApp({
        env: { CONSOLE_ASSETS_DIR: assets, CONSOLE_SAMPLE_MS: String(SAMPLE_MS), OPS_RATE_LIMIT: '100000' },
      }),
    );
    redis = testRedisClient();
    browser = await launchChromium();
  }, 60_000);

  afterEach(async () => {
    for (const page of pages.splice(0)) {
      const problems = await page.problems();
      await page.context.close();
      expect(problems).toEqual([]);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.app.close();
    redis?.disconnect();
  });

  it('serves the page with a strict CSP, hashed assets cached for good and the page revalidated', async () => {
    await request(platform.url).get('/console').expect(301).expect('location', '/console/');
    const page = await request(platform.url).get('/console/').expect(200);
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.text).not.toMatch(/<script>|<style|\sstyle=|\son\w+=/i);
    const script = /src="assets\/(console-[A-Z0-9]+\.js)"/.exec(page.text)![1];
    const asset = await request(platform.url).get(`/console/assets/${script}`).expect(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.text.length).toBeLessThan(BUNDLE_BUDGET);
    await request(platform.url).get('/console/assets/nothing.js').expect(404);
    await request(platform.url).get('/console/api/live').expect(401);
  });

  it('refuses a wrong key, signs a reader in, and keeps the key and the session out of scripts, URLs and storage', async () => {
    const watched = await newPage();
    const { page } = watched;
    await page.goto(`${platform.url}/console/`);
    await page.getByRole('heading', { name: 'Operations console' }).waitFor();
    await screenshot(page, 'console-sign-in');
    watched.allow(/status of 401/); // the wrong key, on purpose
    await page.getByLabel('API key').fill('not-a-key-0123456789abcdef');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Unknown API key.' }).waitFor();

    await page.getByLabel('API key').fill(READER_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Reader: read only').waitFor();

    const cookie = (await watched.context.cookies()).find((c) => c.name === SESSION_COOKIE)!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie.value).not.toContain(READER_KEY);
    const seen = await page.evaluate<Record<'cookie' | 'local' | 'session' | 'html', string>>(`({
      cookie: document.cookie,
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      html: document.documentElement.outerHTML,
    })`);
    expect(seen.cookie).not.toContain(SESSION_COOKIE);
    for (const place of [seen.cookie, seen.local, seen.session, seen.html, page.url(), ...watched.requests])
      expect(place).not.toContain(READER_KEY);
  });

  it('shows a reader every action disabled with the reason, and the API refuses the reader what the page would send', async () => {
    const watched = await newPage();
    await signIn(watched.page, platform.url, READER_KEY);
    const redrive = card(watched, 'orders').getByRole('button', { name: 'Redrive all' });
    await redrive.waitFor();
    expect(await redrive.isDisabled()).toBe(true);
    await card(watched, 'orders').getByText('Operators only: your key has the reader role.').waitFor();
    await screenshot(watched.page, 'console-overview-reader');

    watched.allow(/status of 403/); // the forged request, on purpose
    const forged = await watched.page.evaluate<{ status: number; body: { message: string } }>(`(async () => {
      const response = await fetch('/ops/streams/orders/dead-letters/redrive', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-console-csrf': '1' },
        body: JSON.stringify({ all: true }),
      });
      return { status: response.status, body: await response.json() };
    })()`);
    expect(forged.status).toBe(403);
    expect(forged.body.message).toMatch(/needs an operator key; this key has the reader role/);
    // Reading is a reader's right, with the same cookie.
    expect(await watched.page.evaluate(`fetch('/ops/streams').then((r) => r.status)`)).toBe(200);
  });

  it('refuses a cross-site write made with the session cookie: no CSRF header, or a foreign Origin', async () => {
    const watched = await newPage();
    await signIn(watched.page, platform.url, OPERATOR_KEY);
    const session = (await sessionCookieOf(watched))!;
    await xaddEvent(redis, platform.namespace, {
      stream: 'orders',
      type: 'OrderPlaced',
      data: { orderId: 'ORD-CSRF' },
      source: 'console-test',
    });
    const before = await settledDeadLetters();

    // A page of another origin (another port of the same host: the same site, so the SameSite=Strict
    // cookie does travel) posts a form and a no-cors fetch; neither can carry the CSRF header.
    const target = `${platform.url}/ops/streams/orders/dead-letters/redrive`;
    const attacker = await serve(
      `<!doctype html><form id="f" method="post" action="${target}" enctype="text/plain">` +
        `<input name='{"all":true,"x":"' value='"}'></form>` +
        `<script>fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', ` +
        `body: '{"all":true}' }).finally(() => document.getElementById('f').submit());</script>`,
    );
    try {
      const evil = await watched.context.newPage();
      const sent: string[] = [];
      evil.on('request', (r) => {
        if (r.url() === target) sent.push(r.method());
      });
      const formAnswer = evil.waitForResponse((r) => r.url() === target && r.request().isNavigationRequest());
      await evil.goto(attacker.url);
      // The fetch went out (its answer is hidden from the page: Cross-Origin-Resource-Policy), then the form.
      expect((await formAnswer).status()).toBe(403);
      expect(sent).toEqual(['POST', 'POST']);
      expect(await evil.locator('body').innerText()).toContain('needs the x-console-csrf header');
      expect(await deadLetterCount(redis, platform.namespace, 'orders')).toBe(before);
      await evil.close();
    } finally {
      attacker.server.close();
    }

    // The same cookie with the header but a foreign Origin, and without any Origin: 403.
    const post = (headers: Record<string, string>) =>
      request(platform.url)
        .post('/ops/streams/orders/dead-letters/redrive')
        .set('Cookie', `${SESSION_COOKIE}=${session}`)
        .set(headers)
        .send({ all: true });
    const foreign = await post({ 'x-console-csrf': '1', Origin: 'http://evil.example' }).expect(403);
    expect(foreign.body.message).toContain('another site');
    await post({ 'x-console-csrf': '1' }).expect(403);
    await post({ Origin: platform.url }).expect(403);
    expect(await deadLetterCount(redis, platform.namespace, 'orders')).toBe(before);

    // The console's own request, from the console's origin with the header, goes through.
    const own = await post({ 'x-console-csrf': '1', Origin: platform.url }).expect(200);
    expect(own.body.redriven).toBeGreaterThanOrEqual(1);
  });

  it('updates the overview live, without a reload, while orders are placed', async () => {
    const watched = await newPage();
    const { page } = watched;
    await signIn(page, platform.url, OPERATOR_KEY);
    await card(watched, 'orders').waitFor();
    await page.evaluate(`window.marker = 'same page'`);
    const before = await figure(watched, 'orders', 'length');

    const placed = 12;
    for (let i = 0; i < placed; i++) {
      await request(platform.url)
        .post('/orders')
        .send({ userId: `console-${i}`, email: 'ada@example.com', items: [{ sku: 'SKU-MUG', quantity: 1 }] })
        .expect(201);
      await new Promise((r) => setTimeout(r, 150));
    }
    // OrderPlaced, then OrderConfirmed or OrderCancelled, on the orders stream.
    await waitFor(
      'the orders stream grown by every order and its outcome on the page',
      async () => (await figure(watched, 'orders', 'length')) >= before + 2 * placed,
      15_000,
    );
    await screenshot(page, 'console-overview'); // while the groups are still catching up
    const rates = await page.locator('article[data-stream="orders"] .spark polyline').getAttribute('points');
    expect(rates!.split(' ').length).toBeGreaterThan(1);
    await card(watched, 'orders').locator('tr[data-group="inventory"]').waitFor();
    expect(await page.evaluate('window.marker')).toBe('same page');
    // One live stream for the tab, opened once: every update came over it.
    expect(watched.requests.filter((url) => url.includes('/console/api/live'))).toHaveLength(1);
    await waitFor(
      'the inventory group caught up on the page',
      async () =>
        (await card(watched, 'orders').locator('tr[data-group="inventory"] [data-field="lag"]').innerText()) === '0',
      15_000,
    );
  });

  it('asks before an operator redrives dead letters, and does nothing on Cancel', async () => {
    const watched = await newPage();
    const { page } = watched;
    await signIn(page, platform.url, OPERATOR_KEY);
    await xaddEvent(redis, platform.namespace, {
      stream: 'orders',
      type: 'OrderPlaced',
      data: { orderId: 'ORD-REDRIVE' },
      source: 'console-test',
    });
    await waitFor(
      'dead letters on the page',
      async () => (await figure(watched, 'orders', 'dead-letters')) > 0,
      15_000,
    );
    const redrive = card(watched, 'orders').getByRole('button', { name: 'Redrive all' });
    await redrive.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('goes back to the consumer group that failed it').waitFor();
    await screenshot(page, 'console-redrive-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    // From the keyboard: Cancel has the focus, Escape closes the dialog as well.
    await redrive.click();
    // NOTE: the dialog takes the focus once it is drawn, just after the click returned.
    await waitFor(
      'Cancel has the focus',
      () => dialog.getByRole('button', { name: 'Cancel' }).evaluate((b) => b === b.ownerDocument.activeElement),
      5_000,
    );
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByRole('status').filter({ hasText: 'sent back' }).count()).toBe(0);

    await redrive.click();
    await dialog.getByRole('button', { name: 'Redrive all' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /\d+ dead letters of orders sent back to their groups/ })
      .waitFor();
  });

  it('resumes the live stream from Last-Event-ID after a disconnect, with no gap and no duplicate', async () => {
    const signin = await request(platform.url)
      .post('/console/api/session')
      .set({ 'x-console-csrf': '1', Origin: platform.url })
      .send({ apiKey: READER_KEY })
      .expect(200);
    const cookie = String(signin.headers['set-cookie']).split(';')[0];

    const first = await readLive(platform.url, cookie, undefined, 4);
    expect(first.opening).toMatch(/^id: \d+\nretry: 1000\n: live\n/); // the reconnection delay, then samples
    const lastId = first.samples.at(-1)!.id;
    await new Promise((r) => setTimeout(r, 4 * SAMPLE_MS)); // samples taken while disconnected
    const resumed = await readLive(platform.url, cookie, lastId, 3);
    const times = [...first.samples, ...resumed.samples].map((s) => s.time);
    expect(resumed.samples[0].time).toBeGreaterThan(Number(lastId));
    expect(new Set(times).size).toBe(times.length);
    // Consecutive samples: each gap is about one sampling interval, not the time spent disconnected.
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeLessThan(3 * SAMPLE_MS);
  });

  it('signs out: the session ends on the server, and its cookie opens nothing any more', async () => {
    const watched = await newPage();
    await signIn(watched.page, platform.url, OPERATOR_KEY);
    const session = (await sessionCookieOf(watched))!;
    await request(platform.url).get('/ops/streams').set('Cookie', `${SESSION_COOKIE}=${session}`).expect(200);
    await watched.page.getByRole('button', { name: 'Sign out' }).click();
    await watched.page.getByText('Signed out.').waitFor();
    expect(await sessionCookieOf(watched)).toBeUndefined();
    // The copied cookie is worthless: the session is gone from Redis, not just from the browser.
    const after = await request(platform.url).get('/ops/streams').set('Cookie', `${SESSION_COOKIE}=${session}`);
    expect(after.status).toBe(401);
    expect(after.body.message).toContain('session has ended');
    const current = await request(platform.url)
      .get('/console/api/session')
      .set('Cookie', `${SESSION_COOKIE}=${session}`);
    expect(current.body).toEqual({ signedIn: false });
  });
});

/** An HTTP server on another port serving one page (the attacker's origin). */
async function serve(html: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

interface LiveSample {
  id: string;
  time: number;
}

/** Reads `/console/api/live` until `count` samples arrived, then disconnects. */
function readLive(
  url: string,
  cookie: string,
  lastEventId: string | undefined,
  count: number,
): Promise<{ opening: string; samples: LiveSample[] }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { cookie, accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const req = get(`${url}/console/api/live`, { headers }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) return reject(new Error(`live stream answered ${res.statusCode}`));
      let buffer = '';
      let opening: string | undefined;
      const samples: LiveSample[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end + 1);
          buffer = buffer.slice(end + 2);
          if (!message.trim()) continue;
          opening ??= message.trimStart();
          if (!message.includes('event: sample\n')) continue;
          const id = /^id: (\d+)$/m.exec(message)![1];
          const data = JSON.parse(/^data: (.*)$/m.exec(message)![1]) as { time: number };
          samples.push({ id, time: data.time });
          if (samples.length === count) {
            req.destroy();
            resolve({ opening: opening!, samples });
          }
        }
      });
    });
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.setTimeout(15_000, () => reject(new Error('live stream: no samples within 15 s')));
  });
}
