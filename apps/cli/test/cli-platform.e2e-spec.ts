/**
 * The operators' CLI as a child process against the real platform: `createApp()` (every service
 * and the operations API), the run's redis-server, a namespace of its own, an operator key.
 */
import type { INestApplication } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { testNamespace, testRedisClient, testRedisUrl, waitFor } from '../../../test/support/redis';
import { runCli } from './run-cli';

jest.setTimeout(90_000);

const KEY = `cli-operator-${randomBytes(12).toString('hex')}`;

describe('the CLI against the real platform', () => {
  let app: INestApplication;
  let redis: Redis;
  let ns: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ns = testNamespace('cli');
    Object.assign(process.env, {
      REDIS_URL: testRedisUrl(),
      EVENT_BUS_NAMESPACE: ns,
      PORT: '0',
      API_KEYS: `operator:${KEY}`,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      CONSUMER_BLOCK_MS: '200',
    });
    const { createApp } = await import('@app/api');
    app = await createApp();
    await app.listen(0, '127.0.0.1');
    env = { PLATFORM_URL: await app.getUrl(), API_KEY: KEY };
    redis = testRedisClient();
  });

  afterAll(async () => {
    await app?.close();
    redis?.disconnect();
  });

  it('publish, then streams shows the entry', async () => {
    const data = {
      orderId: 'ORD-CLI-1',
      lines: [{ sku: 'SKU-MUG', quantity: 2 }],
      releasedAt: '2025-01-06T09:00:00.000Z',
    };
    const published = await runCli(['publish', 'InventoryReleased', '--data', JSON.stringify(data), '--json'], env);
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    const body = JSON.parse(published.stdout);
    expect(body).toEqual({ id: expect.any(String), entryId: expect.stringMatching(/^\d+-\d+$/), stream: 'inventory' });
    const [[entryId, fields]] = await redis.xrange(`${ns}:{inventory}`, '-', '+');
    expect(entryId).toBe(body.entryId);
    expect(fields).toEqual(expect.arrayContaining(['type', 'InventoryReleased', 'subject', 'ORD-CLI-1']));

    const streams = await runCli(['streams'], env);
    expect(streams.code).toBe(0);
    const rows = streams.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual([
      'STREAM',
      'LENGTH',
      'FIRST ID',
      'LAST ID',
      'FIRST TIME',
      'LAST TIME',
      'GROUPS',
      'DEAD LETTERS',
      'RETENTION',
    ]);
    const inventory = rows.find((r) => r[0] === 'inventory');
    expect(inventory?.slice(0, 4)).toEqual(['inventory', '1', body.entryId, body.entryId]);
    expect(rows.map((r) => r[0])).toEqual(expect.arrayContaining(['orders', 'payments', 'inventory']));
  });

  it('publish: a payload breaking the contract is refused with the fields (exit 1)', async () => {
    const result = await runCli(['publish', 'InventoryReleased', '--data', '{"orderId":"ORD-CLI-2","lines":[]}'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: 400 Bad Request: /);
    expect(result.stderr).toMatch(/^ {2}- data\.lines: /m);
    expect(result.stderr).toMatch(/^ {2}- data\.releasedAt: /m);
  });

  it('dlq ls: an entry that breaks the contract, dead-lettered by the groups reading orders', async () => {
    const eventId = randomUUID();
    const fields = [
      'specversion',
      '1.0',
      'id',
      eventId,
      'type',
      'OrderPlaced',
      'source',
      'foreign-service',
      'time',
      new Date().toISOString(),
      'datacontenttype',
      'application/json',
      'data',
      '{not json',
    ];
    await redis.xadd(`${ns}:{orders}`, '*', ...fields);
    await waitFor('a dead letter of orders', async () => (await redis.xlen(`${ns}:{orders}:dlq`)) >= 1, 20_000);

    const [text, json] = await Promise.all([
      runCli(['dlq', 'ls', 'orders'], env),
      runCli(['dlq', 'ls', 'orders', '--json'], env),
    ]);
    expect(json.code).toBe(0);
    const letters = JSON.parse(json.stdout) as Array<{ eventId: string; type: string; reason: string; group: string }>;
    expect(letters.length).toBeGreaterThanOrEqual(1);
    expect(letters.every((l) => l.eventId === eventId && l.type === 'OrderPlaced')).toBe(true);
    expect(text.code).toBe(0);
    const rows = text.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^ID\s+DEAD-LETTERED AT\s+REASON\s+TYPE\s+GROUP/);
    expect(rows).toHaveLength(letters.length + 1);
    expect(rows[1]).toContain(letters[0].reason);
    expect(rows[1]).toContain(letters[0].group);
  });

  it('replay --dry-run: counts the range and changes nothing (exit 0)', async () => {
    const length = await redis.xlen(`${ns}:{orders}`);
    expect(length).toBeGreaterThanOrEqual(1);
    const replayKey = `${ns}:{orders}:replay:analytics`;
    const groupNames = async () =>
      ((await redis.xinfo('GROUPS', `${ns}:{orders}`)) as string[][]).map((g) => g[1]).sort();
    const before = { replayed: await redis.xlen(replayKey), groups: await groupNames() };
    expect(before.groups).toContain('analytics');
    const result = await runCli(['replay', 'orders', '--group', 'analytics', '--dry-run'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout.trimEnd().split('\n');
    expect(out.at(-1)).toMatch(
      new RegExp(
        `^dry run: ${length} entries of orders would be replayed to group analytics \\(handlers\\); nothing changed \\(replay [0-9a-f-]{36}\\)$`,
      ),
    );
    // NOTE: a real replay would have copied the range into the group's replay stream.
    expect(await redis.xlen(replayKey)).toBe(before.replayed);
    expect(await groupNames()).toEqual(before.groups);
  });

  it('flow: an order placed over HTTP, as a tree of its events with what each group did (exit 0); an unknown id exits 1', async () => {
    const placed = await fetch(`${env.PLATFORM_URL}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        userId: 'cli-flow',
        email: 'cli-flow@example.com',
        items: [{ sku: 'SKU-MUG', quantity: 1 }],
      }),
    });
    expect(placed.status).toBe(201);
    const { orderId } = (await placed.json()) as { orderId: string };
    type Node = { type: string; groups: Array<{ status: string }>; children: Node[] };
    const flat = (nodes: Node[]): Node[] => nodes.flatMap((n) => [n, ...flat(n.children)]);
    let view: { correlationId: string; tree: Node[] } | undefined;
    await waitFor(
      'the order flow settled',
      async () => {
        const res = await fetch(`${env.PLATFORM_URL}/ops/flows/${orderId}`, { headers: { 'x-api-key': KEY } });
        view = res.ok ? ((await res.json()) as typeof view) : undefined;
        const nodes = view ? flat(view.tree) : [];
        return (
          nodes.length === 4 &&
          nodes.every((n) => n.groups.every((g) => g.status === 'handled' || g.status === 'acknowledged'))
        );
      },
      20_000,
    );

    const [text, json, missing] = await Promise.all([
      runCli(['flow', orderId], env),
      runCli(['flow', orderId, '--json'], env),
      runCli(['flow', 'ORD-NOPE-000000'], env),
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(view);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`flow ${view!.correlationId} (latest flow about ${orderId}): 4 events`);
    const events = lines
      .filter((l) => /^[│├└ ─]*[A-Z][A-Za-z]+ v\d /.test(l))
      .map((l) => l.replace(/^[│├└ ─]*/, '').split(' ')[0]);
    expect(events[0]).toBe('OrderPlaced');
    expect(events.at(-1)).toBe('OrderConfirmed');
    expect([...events].sort()).toEqual(['InventoryReserved', 'OrderConfirmed', 'OrderPlaced', 'PaymentSucceeded']);
    expect(lines[3]).toMatch(/^│ {2}analytics {2}handled +1 attempt {2}at \d{4}-/);
    expect(lines).toContain('│  email      acknowledged');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: 404 Not Found: no flow found for "ORD-NOPE-000000"/);
  });

  it('a wrong key: the platform says 401 and the CLI exits 1', async () => {
    const result = await runCli(['streams', '--api-key', 'not-the-key-0123456789'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: 401 Unauthorized: unknown API key (x-api-key)\n  the API key is missing or not accepted: pass --api-key <key> or set API_KEY\n',
    );
  });
});
