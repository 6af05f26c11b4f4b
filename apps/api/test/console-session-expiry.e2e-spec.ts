import type { Browser } from 'playwright-core';
import request from 'supertest';
import { SESSION_COOKIE } from '../src/console/console.constants';
import { launchChromium, openWatchedPage, signIn, WatchedPage, withConsoleBuild } from './support/console-browser';
import { createOpsTestApp, OpsTestApp, OPERATOR_KEY, READER_KEY } from './support/ops-app';

const IDLE_MS = 2000;
const MAX_MS = 5000;
const FAILURES = 3;

/** Console sessions end on the server: idle, at their absolute limit; and guessing keys is limited. */
describe('console session expiry', () => {
  let platform: OpsTestApp;
  let browser: Browser;
  let watched: WatchedPage | undefined;

  const signInOverHttp = (key: string) =>
    request(platform.url)
      .post('/console/api/session')
      .set({ 'x-console-csrf': '1', Origin: platform.url })
      .send({ apiKey: key });

  beforeAll(async () => {
    platform = await withConsoleBuild((assets) =>
      createOpsTestApp({
        env: {
          CONSOLE_ASSETS_DIR: assets,
          CONSOLE_SESSION_IDLE_MS: String(IDLE_MS),
          CONSOLE_SESSION_MAX_MS: String(MAX_MS),
          CONSOLE_SIGNIN_FAILURES: String(FAILURES),
          CONSOLE_SAMPLE_MS: '500',
        },
      }),
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await watched?.context.close();
    await browser?.close();
    await platform?.app.close();
  });

  it('ends an idle session: the open page returns to sign-in by itself, and the cookie opens nothing', async () => {
    watched = await openWatchedPage(browser);
    const signedInAt = Date.now();
    await signIn(watched.page, platform.url, READER_KEY);
    const cookie = (await watched.context.cookies()).find((c) => c.name === SESSION_COOKIE)!;
    // Watching the live overview is not a use: after IDLE_MS without one, the session is gone.
    await watched.page.getByText('Your session has ended: sign in again.').waitFor({ timeout: IDLE_MS + 6000 });
    expect(Date.now() - signedInAt).toBeGreaterThanOrEqual(IDLE_MS);
    await watched.page.getByLabel('API key').waitFor();
    const after = await request(platform.url).get('/ops/streams').set('Cookie', `${SESSION_COOKIE}=${cookie.value}`);
    expect(after.status).toBe(401);
    expect(await watched.problems()).toEqual([]);
  });

  it('keeps a session in use past its idle timeout, and ends it at the absolute limit all the same', async () => {
    const signedIn = await signInOverHttp(OPERATOR_KEY).expect(200);
    const start = Date.now();
    const cookie = String(signedIn.headers['set-cookie']).split(';')[0];
    expect(String(signedIn.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    // Each call with the time it was sent and the time its answer came: the server handled it in between.
    const calls: Array<{ sent: number; answered: number; status: number }> = [];
    while (Date.now() - start < MAX_MS + 1000) {
      const sent = Date.now() - start;
      const answer = await request(platform.url).get('/ops/streams').set('Cookie', cookie);
      calls.push({ sent, answered: Date.now() - start, status: answer.status });
      await new Promise((r) => setTimeout(r, IDLE_MS / 4));
    }
    const inUse = calls.filter((c) => c.answered < MAX_MS - 300);
    const past = calls.filter((c) => c.sent > MAX_MS + 300);
    expect(inUse.at(-1)!.answered).toBeGreaterThan(2 * IDLE_MS); // well past one idle timeout
    expect(inUse.map((c) => c.status)).toEqual(inUse.map(() => 200));
    expect(past.length).toBeGreaterThan(0);
    expect(past.map((c) => c.status)).toEqual(past.map(() => 401));
  });

  it('refuses sign-ins from an address after too many failures in a minute, even with a good key', async () => {
    for (let i = 0; i < FAILURES; i++) await signInOverHttp(`wrong-key-${i}-0123456789abcdef`).expect(401);
    const blocked = await signInOverHttp(OPERATOR_KEY).expect(429);
    expect(blocked.body.message).toContain('too many failed sign-ins');
  });
});
