import { get, IncomingMessage } from 'node:http';
import type Redis from 'ioredis';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { formatPartitionId, parsePartitionId } from '@nest-streams/event-bus/ops/partition-ids';
import { deadLetterCount, streamLength, testKeys, testRedisClient, waitFor } from '../../../test/support/redis';
import { xrangeAll } from '../../../test/support/streams';
import {
  launchChromium,
  openWatchedPage,
  screenshot,
  signIn,
  WatchedPage,
  withConsoleBuild,
} from './support/console-browser';
import { createOpsTestApp, OpsTestApp, OPERATOR_KEY, READER_KEY } from './support/ops-app';
import { opsClient } from './support/ops-client';

/** The stream screen of the console in Chromium, acting on the orders stream of the whole platform; effects checked in Redis. */
describe('operations console: the stream screen', () => {
  let platform: OpsTestApp;
  let browser: Browser;
  let redis: Redis;
  let ops: ReturnType<typeof opsClient>;
  const pages: WatchedPage[] = [];
  const keys = () => testKeys(platform.namespace);

  async function newPage(key: string): Promise<WatchedPage> {
    const watched = await openWatchedPage(browser);
    pages.push(watched);
    watched.page.setDefaultTimeout(10_000);
    await signIn(watched.page, platform.url, key);
    return watched;
  }

  /** Opens the stream from the overview's link. */
  async function openStream(watched: WatchedPage, stream: string): Promise<void> {
    await watched.page.locator(`article[data-stream="${stream}"]`).getByRole('link', { name: stream }).click();
    await watched.page.getByRole('heading', { name: `Stream ${stream}` }).waitFor();
  }

  /** Waits until the orders stream stopped growing (every order placed has its outcome). */
  async function settledOrders(): Promise<number> {
    let last = -1;
    let stableSince = Date.now();
    await waitFor('the orders stream settled', async () => {
      const now = await streamLength(redis, platform.namespace, 'orders');
      if (now !== last) [last, stableSince] = [now, Date.now()];
      return Date.now() - stableSince > 1000;
    });
    return last;
  }

  async function placeOrders(n: number, label: string): Promise<void> {
    for (let i = 0; i < n; i++)
      await request(platform.url)
        .post('/orders')
        .send({ userId: `${label}-${i}`, email: 'ada@example.com', items: [{ sku: 'SKU-MUG', quantity: 1 }] })
        .expect(201);
  }

  /** A group of orders no service reads, and `count` entries (per partition) pending with `consumer`, as a stuck consumer leaves them. */
  async function stuckGroup(group: string, consumer: string, count: number): Promise<void> {
    await ops.post('/ops/streams/orders/groups', { group, startFrom: 'beginning' }).expect(201);
    for (const key of keys().streamKeys('orders'))
      await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', key, '>');
  }

  /** The pending entries of a group in Redis (every partition): id as the API shows it, and its consumer. */
  async function pendingInRedis(group: string): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const k of keys().all) {
      const rows = (await redis.xpending(keys().stream('orders', k), group, '-', '+', 1000)) as Array<[string, string]>;
      for (const [id, consumer] of rows) found.set(formatPartitionId(keys(), k, id), consumer);
    }
    return found;
  }

  /** The group's last-delivered id on each partition. */
  async function positions(group: string): Promise<string[]> {
    return Promise.all(
      keys()
        .streamKeys('orders')
        .map(async (key) => {
          const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
          const row = groups.find((g) => g[1] === group)!;
          return String(row[row.indexOf('last-delivered-id') + 1]);
        }),
    );
  }

  beforeAll(async () => {
    platform = await withConsoleBuild((assets) =>
      createOpsTestApp({ env: { CONSOLE_ASSETS_DIR: assets, CONSOLE_SAMPLE_MS: '250', OPS_RATE_LIMIT: '100000' } }),
    );
    redis = testRedisClient();
    ops = opsClient(platform.url);
    browser = await launchChromium();
    await placeOrders(4, 'stream-screen');
  }, 60_000);

  afterEach(async () => {
    for (const watched of pages.splice(0)) {
      const problems = await watched.problems();
      await watched.context.close();
      expect(problems).toEqual([]);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.app.close();
    redis?.disconnect();
  });

  it("shows a stream's groups with their consumers, and lets an operator claim, acknowledge and dead-letter pending entries after a confirmation", async () => {
    await stuckGroup('audit', 'stuck-1', 3);
    const pendingBefore = await pendingInRedis('audit');
    expect(pendingBefore.size).toBeGreaterThanOrEqual(3);
    const watched = await newPage(OPERATOR_KEY);
    const { page } = watched;
    await openStream(watched, 'orders');
    expect(page.url()).toMatch(/#\/streams\/orders$/);

    const audit = page.locator('article[data-group="audit"]');
    expect(await audit.locator('[data-field="pending"]').first().innerText()).toBe(String(pendingBefore.size));
    await audit.locator('tr[data-consumer="stuck-1"]').first().waitFor();
    // The services' own groups are there too, with their consumers.
    await page.locator('article[data-group="inventory"] tr[data-consumer]').first().waitFor();
    const rows = audit.locator('table[data-pending] tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(pendingBefore.size);
    const [claimed, acked, deadLettered] = await rows.evaluateAll((trs) =>
      trs.slice(0, 3).map((tr) => tr.getAttribute('data-entry')!),
    );
    const row = (id: string) => audit.locator(`tr[data-entry="${id}"]`);
    const dialog = page.getByRole('dialog');

    await row(claimed).getByRole('button', { name: 'Claim' }).click();
    await dialog.getByLabel('Consumer').fill('ops-recovery');
    await screenshot(page, 'console-stream-claim');
    await dialog.getByRole('button', { name: 'Claim' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Entry ${claimed} of group audit claimed by ops-recovery.` })
      .waitFor();
    expect((await pendingInRedis('audit')).get(claimed)).toBe('ops-recovery');

    // Cancel changes nothing; confirming acknowledges.
    await row(acked).getByRole('button', { name: 'Acknowledge' }).click();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await pendingInRedis('audit')).has(acked)).toBe(true);
    await row(acked).getByRole('button', { name: 'Acknowledge' }).click();
    await dialog.getByRole('button', { name: 'Acknowledge' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Entry ${acked} of group audit acknowledged.` })
      .waitFor();
    expect((await pendingInRedis('audit')).has(acked)).toBe(false);

    const deadBefore = await deadLetterCount(redis, platform.namespace, 'orders');
    await row(deadLettered).getByRole('button', { name: 'Dead-letter' }).click();
    await dialog.getByRole('button', { name: 'Dead-letter' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Entry ${deadLettered} of group audit dead-lettered.` })
      .waitFor();
    expect((await pendingInRedis('audit')).has(deadLettered)).toBe(false);
    expect(await deadLetterCount(redis, platform.namespace, 'orders')).toBe(deadBefore + 1);
    const at = parsePartitionId(keys(), deadLettered)!;
    const letters = await redis.xrange(keys().deadLetter('orders', at.partition), '-', '+');
    expect(letters.some(([, fields]) => fields.join(' ').includes(at.id))).toBe(true);
    // The page shows what Redis has now.
    await waitFor(
      'the page re-read the pending entries',
      async () => (await rows.count()) === pendingBefore.size - 2,
      5_000,
    );
    expect(await row(claimed).locator('[data-field="consumer"]').innerText()).toBe('ops-recovery');

    // Another consumer reads: the page shows it and its entries by itself, without Refresh.
    // NOTE: with partitions the first reads may have taken every entry of the partitions that had some: a new order.
    await placeOrders(1, 'live-groups');
    let read = 0;
    for (const key of keys().streamKeys('orders')) {
      const reply = (await redis.xreadgroup('GROUP', 'audit', 'stuck-3', 'COUNT', 1, 'STREAMS', key, '>')) as Array<
        [string, unknown[]]
      > | null;
      read += reply?.[0]?.[1].length ?? 0;
    }
    expect(read).toBeGreaterThan(0);
    const nowPending = await pendingInRedis('audit');
    await audit.locator('tr[data-consumer="stuck-3"]').first().waitFor(); // once per partition it read from
    await waitFor('the new pending entries on the page', async () => (await rows.count()) === nowPending.size, 5_000);
    expect(await audit.locator('[data-field="pending"]').first().innerText()).toBe(String(nowPending.size));
  });

  it('shows a reader the pending entries with every action disabled and the reason, lets them preview a move but not make it; the API refuses the reader', async () => {
    await stuckGroup('audit-reader', 'stuck-2', 2);
    const before = await pendingInRedis('audit-reader');
    const watched = await newPage(READER_KEY);
    await openStream(watched, 'orders');
    const group = watched.page.locator('article[data-group="audit-reader"]');
    await group.locator('table[data-pending] tbody tr').first().waitFor();
    const buttons = group.getByRole('button', { name: /^(Claim|Acknowledge|Dead-letter)$/ });
    expect(await buttons.count()).toBe(3 * before.size);
    for (const button of await buttons.all()) {
      expect(await button.isDisabled()).toBe(true);
      expect(await button.getAttribute('title')).toBe('Operators only: your key has the reader role.');
    }
    await group.getByText('Operators only: your key has the reader role.').first().waitFor();
    await screenshot(watched.page, 'console-stream-reader');

    // A reader may see what a move would do, and not make it.
    const position = await positions('audit-reader');
    await group.getByRole('button', { name: 'Preview a move' }).click();
    const dialog = watched.page.getByRole('dialog');
    await dialog.getByLabel('Time (ISO 8601, UTC)').fill(new Date(0).toISOString());
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await dialog.locator('[data-preview]').getByText('would be delivered again.').waitFor();
    const move = dialog.getByRole('button', { name: 'Move', exact: true });
    expect(await move.isDisabled()).toBe(true);
    expect(await move.getAttribute('title')).toBe('Operators only: your key has the reader role.');
    await watched.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await positions('audit-reader')).toEqual(position);

    watched.allow(/status of 403/); // the forged request, on purpose
    const [id] = [...before.keys()];
    const forged = await watched.page.evaluate<number>(
      `fetch('/ops/streams/orders/groups/audit-reader/pending/${encodeURIComponent(id)}/ack', {
        method: 'POST', headers: { 'x-console-csrf': '1' } }).then((r) => r.status)`,
    );
    expect(forged).toBe(403);
    expect(await pendingInRedis('audit-reader')).toEqual(before);
  });

  it("moves a group's position after a preview of what it would deliver again, and not on Cancel", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    await placeOrders(3, 'move');
    // What the group would get again: every entry of orders at or after `since` (each order and its outcome).
    const after = async (): Promise<number> => {
      let n = 0;
      for (const key of keys().streamKeys('orders'))
        n += (await redis.xrange(key, String(Date.parse(since)), '+')).length;
      return n;
    };
    let expected = -1;
    let stableSince = Date.now();
    await waitFor('the orders and their outcomes written', async () => {
      const now = await after();
      if (now !== expected) [expected, stableSince] = [now, Date.now()];
      return now >= 6 && Date.now() - stableSince > 1000;
    });
    await ops.post('/ops/streams/orders/groups', { group: 'replayer', startFrom: 'end' }).expect(201);
    const start = await positions('replayer');

    const watched = await newPage(OPERATOR_KEY);
    const { page } = watched;
    await openStream(watched, 'orders');
    const group = page.locator('article[data-group="replayer"]');
    const dialog = page.getByRole('dialog');
    await group.getByRole('button', { name: 'Move position' }).click();
    expect(await dialog.getByRole('button', { name: 'Move', exact: true }).isDisabled()).toBe(true);
    await dialog.getByLabel('Time (ISO 8601, UTC)').fill(since);
    await dialog.getByRole('button', { name: 'Preview' }).click();
    const preview = dialog.locator('[data-preview]');
    await preview.getByText(`${expected} would be delivered again.`).waitFor();
    expect(await preview.locator('li').count()).toBe(Math.min(5, expected));
    await screenshot(page, 'console-stream-move');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await positions('replayer')).toEqual(start);

    await group.getByRole('button', { name: 'Move position' }).click();
    await dialog.getByLabel('Time (ISO 8601, UTC)').fill(since);
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await preview.getByText(`${expected} would be delivered again.`).waitFor();
    await dialog.getByRole('button', { name: 'Move', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${expected} entries follow it.` })
      .waitFor();
    const moved = await positions('replayer');
    for (const id of moved) expect(id).toBe(`${Date.parse(since) - 1}-18446744073709551615`);
  });

  it('previews a move through the API for readers too, and names the field of bad input', async () => {
    await ops.post('/ops/streams/orders/groups', { group: 'skipper', startFrom: 'beginning' }).expect(201);
    const summary = (await ops.get('/ops/streams').expect(200)).body as Array<{
      stream: string;
      lastId: string;
      length: number;
    }>;
    const orders = summary.find((s) => s.stream === 'orders')!;
    const forward = await ops
      .get(`/ops/streams/orders/groups/skipper/position/preview?id=${orders.lastId}`)
      .expect(200);
    expect(forward.body).toMatchObject({
      stream: 'orders',
      group: 'skipper',
      from: '0-0',
      lastDeliveredId: orders.lastId,
    });
    expect(forward.body.skip).toBeGreaterThan(0);
    expect(forward.body.replay).toBe(0);
    expect(forward.body.redeliver + forward.body.skip).toBe(orders.length);
    expect(await positions('skipper')).toEqual(keys().all.map(() => '0-0'));

    const bad = await ops.get('/ops/streams/orders/groups/skipper/position/preview?id=yesterday').expect(400);
    expect(bad.body.details[0].field).toBe('id');
    const badTime = await ops.get('/ops/streams/orders/groups/skipper/position/preview?time=noon').expect(400);
    expect(badTime.body.details[0].field).toBe('time');
    const neither = await ops.get('/ops/streams/orders/groups/skipper/position/preview').expect(400);
    expect(neither.body.details[0].field).toBe('id');
    await ops.get('/ops/streams/orders/groups/nobody/position/preview?id=1-0').expect(404);
    // A reader may look, not move.
    await ops
      .post('/ops/streams/orders/groups/skipper/position', { id: orders.lastId, confirm: true }, 'reader')
      .expect(403);
  });

  it('browses the messages a page at a time, back and forth, filtered by type, subject, time and payload text, and decodes one', async () => {
    await placeOrders(10, 'filler'); // enough entries for three pages of ten
    const since = new Date().toISOString();
    await placeOrders(3, 'needle');
    await settledOrders();
    const all = (await xrangeAll(redis, platform.namespace, 'orders')).reverse();
    const bare = (id: string) => id.replace(/^p\d+\//, '');
    const watched = await newPage(OPERATOR_KEY);
    const { page } = watched;
    await openStream(watched, 'orders');
    const messages = page.locator('section.messages');
    const shown = async (): Promise<string[]> =>
      (
        await messages
          .locator('tbody tr[data-entry]')
          .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-entry')!))
      ).map(bare);
    const pageShows = async (caption: string, ids: string[]) => {
      await messages.getByText(caption, { exact: true }).waitFor();
      await waitFor(
        `${caption} shows its entries`,
        async () => JSON.stringify(await shown()) === JSON.stringify(ids),
        5_000,
      );
    };

    // The type filter suggests the stream's event types.
    await messages.locator('datalist#stream-types option[value="OrderPlaced"]').waitFor({ state: 'attached' });
    const suggested = await messages
      .locator('datalist#stream-types option')
      .evaluateAll((options) => options.map((o) => o.getAttribute('value')));
    expect(suggested).toEqual(expect.arrayContaining(['OrderPlaced', 'OrderConfirmed', 'OrderCancelled']));
    expect(suggested).not.toContain('PaymentSucceeded');
    await messages.getByLabel('Per page').selectOption('10');
    await messages.getByRole('button', { name: 'Apply' }).click();
    const newest = all.map(([id]) => id);
    await pageShows('Page 1', newest.slice(0, 10));
    expect(await messages.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
    await messages.getByRole('button', { name: 'Next' }).click();
    await pageShows('Page 2', newest.slice(10, 20));
    await messages.getByRole('button', { name: 'Next' }).click();
    await pageShows('Page 3', newest.slice(20, 30));
    await messages.getByRole('button', { name: 'Previous' }).click();
    await pageShows('Page 2', newest.slice(10, 20));

    // The needles: OrderPlaced since `since` whose payload names the user.
    const needles = all
      .filter(([id, fields]) => Number(id.split('-')[0]) >= Date.parse(since) && fields.join(' ').includes('needle-'))
      .map(([id, fields]) => ({
        id,
        type: fields[fields.indexOf('type') + 1],
        subject: fields[fields.indexOf('subject') + 1],
      }))
      .filter((e) => e.type === 'OrderPlaced')
      .reverse();
    expect(needles).toHaveLength(3);
    await messages.getByLabel('Type').fill('OrderPlaced');
    await messages.getByLabel('From').fill(since);
    await messages.getByLabel('Order').selectOption('oldest');
    await messages.getByRole('button', { name: 'Apply' }).click();
    await pageShows(
      'Page 1',
      needles.map((n) => n.id),
    );
    await messages.getByLabel('From').fill('');
    await messages.getByLabel('Text in the payload').fill('NEEDLE-1');
    await messages.getByRole('button', { name: 'Apply' }).click();
    await pageShows('Page 1', [needles[1].id]);
    await messages.getByLabel('Text in the payload').fill('');
    await messages.getByLabel('Subject').fill(needles[2].subject);
    await messages.getByRole('button', { name: 'Apply' }).click();
    await pageShows('Page 1', [needles[2].id]);

    await messages.locator('tbody tr[data-entry]').getByRole('button').click();
    const details = messages.locator('[data-details]');
    expect(JSON.parse(await details.locator('[data-field="payload"]').innerText())).toMatchObject({
      userId: 'needle-2',
    });
    expect(JSON.parse(await details.locator('[data-field="envelope"]').innerText())).toMatchObject({
      type: 'OrderPlaced',
      subject: needles[2].subject,
      source: expect.any(String),
    });
    await screenshot(page, 'console-stream-messages');

    // Bad input: the server's answer names the field.
    watched.allow(/status of 400/);
    await messages.getByLabel('To').fill('yesterday');
    await messages.getByRole('button', { name: 'Apply' }).click();
    await messages.getByRole('alert').filter({ hasText: 'to must be a stream id' }).waitFor();
  });

  it('filters entries by text in the payload through the API, and names the field of bad input', async () => {
    await placeOrders(3, 'haystack');
    const found = await ops
      .get('/ops/streams/orders/entries?text=HAYSTACK-&type=OrderPlaced&order=oldest&count=2')
      .expect(200);
    expect(found.body.entries.map((e: { data: { userId: string } }) => e.data.userId)).toEqual([
      'haystack-0',
      'haystack-1',
    ]);
    const next = await ops
      .get(
        `/ops/streams/orders/entries?text=HAYSTACK-&type=OrderPlaced&order=oldest&count=2&cursor=${found.body.nextCursor}`,
      )
      .expect(200);
    expect(next.body.entries.map((e: { data: { userId: string } }) => e.data.userId)).toEqual(['haystack-2']);
    // The envelope is not searched: only the payload.
    expect((await ops.get('/ops/streams/orders/entries?text=OrderPlaced').expect(200)).body.entries).toEqual([]);
    const empty = await ops.get('/ops/streams/orders/entries?text=').expect(400);
    expect(empty.body.details[0].field).toBe('text');
    const long = await ops.get(`/ops/streams/orders/entries?text=${'x'.repeat(201)}`).expect(400);
    expect(long.body.details[0].field).toBe('text');
  });

  /** The groups of orders and their consumers on every partition, as Redis has them. */
  async function groupsAndConsumers(): Promise<string[]> {
    const found: string[] = [];
    for (const key of keys().streamKeys('orders'))
      for (const g of (await redis.xinfo('GROUPS', key)) as unknown[][]) {
        const name = String(g[1]);
        const consumers = (await redis.xinfo('CONSUMERS', key, name)) as unknown[][];
        found.push(
          `${key} ${name}: ${consumers
            .map((c) => String(c[1]))
            .sort()
            .join(',')}`,
        );
      }
    return found.sort();
  }

  /** The entries of orders after the given end positions (one per partition), in (id, partition) order, as the API names them. */
  async function entriesAfter(ends: string[]): Promise<string[]> {
    const found: Array<{ k: number; id: string }> = [];
    for (const k of keys().all)
      for (const [id] of await redis.xrange(keys().stream('orders', k), `(${ends[k]}`, '+')) found.push({ k, id });
    const parts = (id: string) => id.split('-').map(BigInt);
    found.sort((a, b) => {
      const [[ams, aseq], [bms, bseq]] = [parts(a.id), parts(b.id)];
      return ams !== bms ? (ams < bms ? -1 : 1) : aseq !== bseq ? (aseq < bseq ? -1 : 1) : a.k - b.k;
    });
    return found.map(({ k, id }) => formatPartitionId(keys(), k, id));
  }

  /** The last entry id of each partition of orders. */
  async function ends(): Promise<string[]> {
    return Promise.all(
      keys().all.map(
        async (k) => (await redis.xrevrange(keys().stream('orders', k), '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0',
      ),
    );
  }

  it('tails a stream live on the page, resumes after the tab was hidden without a gap, and joins no group', async () => {
    await settledOrders();
    const groupsBefore = await groupsAndConsumers();
    const watched = await newPage(OPERATOR_KEY);
    const { page } = watched;
    await openStream(watched, 'orders');
    const tail = page.locator('section.tail');
    // The tail starts at the stream's end when the server opens it: after `before`, at or before `start`.
    const before = await ends();
    await tail.getByRole('button', { name: 'Start the tail' }).click();
    await tail.locator('[data-tail="live"]').waitFor();
    const start = await ends();
    const shown = () =>
      tail.locator('tbody tr[data-entry]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-entry')!));
    const showsAll = async (what: string) => {
      let expected: string[] = [];
      let seen: string[] = [];
      await waitFor(
        what,
        async () => {
          // Newest first: every entry after `start`, and maybe some of those between `before` and `start`;
          // no gap and no duplicate: the newest of those after `before`, in order.
          const since = (await entriesAfter(before)).reverse();
          const required = (await entriesAfter(start)).length;
          seen = await shown();
          expected = since.slice(0, Math.max(required, seen.length));
          return JSON.stringify(seen) === JSON.stringify(expected);
        },
        10_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nshown:    ${seen.join(' ')}\nexpected: ${expected.join(' ')}`);
      });
      return expected;
    };

    await placeOrders(2, 'tail-a');
    await settledOrders();
    expect((await showsAll('the first orders in the tail')).length).toBeGreaterThanOrEqual(4);
    await tail.locator('tbody tr[data-entry]').first().getByRole('button').click();
    await tail.locator('[data-details] [data-field="payload"]').waitFor();
    await screenshot(page, 'console-stream-tail');

    // The tab is hidden: its live stream closes; entries appended meanwhile come when it is shown again.
    const setHidden = (hidden: boolean) =>
      page.evaluate(`Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} });
        document.dispatchEvent(new Event('visibilitychange'))`);
    await setHidden(true);
    await tail.locator('[data-tail="paused"]').waitFor();
    await placeOrders(2, 'tail-b');
    await settledOrders();
    await setHidden(false);
    const all = await showsAll('every entry in the tail, those appended while hidden too, once each');
    expect(new Set(all).size).toBe(all.length);
    const opened = watched.requests.filter((url) => url.includes('/console/api/live?tail=orders'));
    expect(opened).toHaveLength(2);
    expect(decodeURIComponent(opened[1])).toMatch(/&after=\d+~[\d,-]+$/);
    expect(await groupsAndConsumers()).toEqual(groupsBefore);

    await tail.getByRole('button', { name: 'Stop the tail' }).click();
    await tail.locator('[data-tail]').waitFor({ state: 'detached' });
  });

  it('resumes the tail from Last-Event-ID after a dropped connection with no gap and no duplicate; refuses bad input', async () => {
    await settledOrders();
    const before = await ends();
    const first = await readTail(platform.url, {}, 4, () => placeOrders(2, 'resume-a'));
    // The first message's id: where the tail starts, the stream's end when it opened.
    const opened = /^id: \d+~([\d,-]+)\nretry: 1000\n: live\n/.exec(first.opening);
    expect(opened).not.toBeNull();
    const start = opened![1].split(',');
    expect(start).toHaveLength(keys().partitions);
    start.forEach((id, k) => expect(BigInt(id.split('-')[0]) >= BigInt(before[k].split('-')[0])).toBe(true));
    await placeOrders(2, 'resume-b'); // while disconnected
    await settledOrders();
    const expected = await entriesAfter(start);
    const rest = expected.length - first.entries.length;
    const second = await readTail(platform.url, { 'last-event-id': first.lastId }, rest);
    const got = [...first.entries, ...second.entries];
    expect(got).toEqual(expected);
    expect(got.length).toBeGreaterThanOrEqual(8);

    const live = (query: string, headers: Record<string, string> = {}) =>
      request(platform.url).get(`/console/api/live${query}`).set('x-api-key', READER_KEY).set(headers);
    expect((await live('?tail=nowhere').expect(404)).body.message).toContain('unknown stream');
    expect((await live('?tail=a%20b').expect(400)).body.message).toContain('malformed tail name');
    expect((await live('?tail=orders&after=yesterday').expect(400)).body.details[0].field).toBe('after');
    const wrong = await live('?tail=orders', { 'last-event-id': '17~1-0,2-0,x' }).expect(400);
    expect(wrong.body.details[0].field).toBe('Last-Event-ID');
  });
});

/**
 * Reads `/console/api/live?tail=orders` with a reader key until `count` entries came (calling
 * `meanwhile` once the stream is open), then disconnects.
 */
function readTail(
  url: string,
  headers: Record<string, string>,
  count: number,
  meanwhile?: () => Promise<void>,
): Promise<{ opening: string; entries: string[]; lastId: string }> {
  return new Promise((resolve, reject) => {
    const req = get(
      `${url}/console/api/live?tail=orders`,
      { headers: { ...headers, 'x-api-key': READER_KEY, accept: 'text/event-stream' } },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) return reject(new Error(`live stream answered ${res.statusCode}`));
        let buffer = '';
        let opening: string | undefined;
        let lastId = '';
        const entries: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const message = buffer.slice(0, end + 1);
            buffer = buffer.slice(end + 2);
            if (!message.trim()) continue;
            if (opening === undefined) {
              opening = message.trimStart();
              meanwhile?.().catch(reject);
            }
            lastId = /^id: (.*)$/m.exec(message)?.[1] ?? lastId;
            if (!message.includes('event: entry\n')) continue;
            entries.push((JSON.parse(/^data: (.*)$/m.exec(message)![1]) as { id: string }).id);
            if (entries.length === count) {
              req.destroy();
              resolve({ opening: opening!, entries, lastId });
            }
          }
        });
      },
    );
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.setTimeout(15_000, () => reject(new Error(`live stream: ${count} entries did not come within 15 s`)));
  });
}
