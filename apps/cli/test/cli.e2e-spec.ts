/**
 * The operators' CLI as a real child process against a real HTTP server: a fake of the operations
 * API here (fake-ops-server.ts), and the real platform in cli-platform.e2e-spec.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpsServer, OPERATOR_KEY, READER_KEY } from './fake-ops-server';
import { runCli, startCli } from './run-cli';

jest.setTimeout(60_000);

let fake: FakeOpsServer;
let env: Record<string, string>;

beforeEach(async () => {
  fake = await FakeOpsServer.start();
  env = { PLATFORM_URL: fake.url, API_KEY: OPERATOR_KEY };
});

afterEach(async () => {
  await fake.close();
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const lines = (text: string) => text.trimEnd().split('\n');

describe('help', () => {
  it('lists every command, and each command has examples', async () => {
    const [root, replay, dlq] = await Promise.all([
      runCli(['--help']),
      runCli(['replay', '--help']),
      runCli(['dlq', 'purge', '--help']),
    ]);
    expect(root.code).toBe(0);
    for (const command of ['streams', 'groups', 'pending', 'tail', 'replay', 'dlq', 'publish', 'flow'])
      expect(root.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    expect(root.stdout).toContain('Exit codes: 0 ok, 1 usage error');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('--target <kind>');
    expect(replay.stdout).toContain('--api-key <key>');
    expect(replay.stdout).toMatch(/Examples:\n {2}\$ npm run -s cli -- replay orders/);
    expect(dlq.stdout).toContain('--yes');
  });

  it('exits 1 on usage errors, before any request', async () => {
    const results = await Promise.all([
      runCli(['pending', 'orders'], env),
      runCli(['pending', 'orders', 'inventory', '--count', 'zero'], env),
      runCli(['replay', 'orders'], env),
      runCli(['replay', 'orders', '--group', 'email', '--target', 'everything'], env),
      runCli(['dlq', 'redrive', 'orders'], env),
      runCli(['publish', 'PaymentFailed', '--data', '{"orderId":'], env),
      runCli(['nope'], env),
      runCli(['dlq'], env),
      runCli(['streams', '--url', 'ftp://example.com'], env),
    ]);
    expect(results.map((r) => r.code)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(results[0].stderr).toContain("missing required argument 'group'");
    expect(results[1].stderr).toContain(
      "option '--count <n>' argument 'zero' is invalid. Expected a whole number of 1 or more.",
    );
    expect(results[2].stderr).toContain("required option '--group <group>' not specified");
    expect(results[3].stderr).toContain('Allowed choices are handlers, position, new-group.');
    expect(results[4].stderr).toContain(
      'error: say which dead letters of orders to redrive: --id, --group, --reason or --type, or --all',
    );
    expect(results[5].stderr).toMatch(/error: --data is not valid JSON: /);
    expect(results[6].stderr).toContain("unknown command 'nope'");
    expect(results[7].stderr).toContain('Usage: cli dlq');
    expect(results[8].stderr).toContain('must be an http:// or https:// URL');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('streams, groups, pending', () => {
  it('streams: a table, from PLATFORM_URL and API_KEY', async () => {
    const result = await runCli(['streams'], env);
    expect(result.code).toBe(0);
    const [header, ...rows] = lines(result.stdout);
    expect(header.split(/\s{2,}/)).toEqual([
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
    expect(rows).toHaveLength(3);
    expect(rows[0].split(/\s{2,}/)).toEqual([
      'orders',
      '3',
      '1736154000000-0',
      '1736154002000-0',
      '2025-01-06T09:00:00.000Z',
      '2025-01-06T09:00:02.000Z',
      '4',
      '3',
      'maxLength=1000000 maxAge=7d00h',
    ]);
    expect(rows[2].split(/\s{2,}/)).toEqual(['inventory', '0', '-', '-', '-', '-', '1', '0', '-']);
    expect(fake.requests.map((r) => [r.method, r.path, r.apiKey])).toEqual([['GET', '/ops/streams', OPERATOR_KEY]]);
  });

  it('streams --json, with --url and --api-key overriding the environment', async () => {
    const result = await runCli(['streams', '--json', '--url', `${fake.url}/`, '--api-key', READER_KEY], {
      PLATFORM_URL: 'http://127.0.0.1:9',
      API_KEY: 'wrong',
    });
    expect(result.code).toBe(0);
    const streams = JSON.parse(result.stdout);
    expect(streams.map((s: { stream: string }) => s.stream)).toEqual(['orders', 'payments', 'inventory']);
    expect(streams[0]).toMatchObject({
      length: 3,
      deadLetters: 3,
      retention: { maxLength: 1_000_000, maxAgeMs: 604_800_000 },
    });
    expect(fake.requests[0].apiKey).toBe(READER_KEY);
  });

  it('groups: the groups, then their consumers; --json as the server sent it', async () => {
    const [text, json] = await Promise.all([
      runCli(['groups', 'orders'], env),
      runCli(['groups', 'orders', '--json'], env),
    ]);
    expect(text.code).toBe(0);
    const [groups, consumers] = text.stdout.trimEnd().split('\n\n').map(lines);
    expect(groups.map((l) => l.split(/\s{2,}/).map((c) => c.trim()))).toEqual([
      ['GROUP', 'LAG', 'PENDING', 'LAST DELIVERED', 'CONSUMERS'],
      ['analytics', '0', '0', '1736154002000-0', '1'],
      ['inventory', '12', '3', '1736154001000-0', '2'],
      ['payment', '-', '0', '1736154002000-0', '0'],
    ]);
    expect(consumers.map((l) => l.split(/\s{2,}/).map((c) => c.trim()))).toEqual([
      ['GROUP', 'CONSUMER', 'PENDING', 'IDLE'],
      ['analytics', 'api-7f9c-1234', '0', '812ms'],
      ['inventory', 'api-7f9c-1234', '2', '1.5s'],
      ['inventory', 'api-b2e1-5678', '1', '1h02m'],
    ]);
    expect(JSON.parse(json.stdout)[1]).toEqual(
      expect.objectContaining({ group: 'inventory', lag: 12, consumers: expect.any(Array) }),
    );
  });

  it('pending --count N', async () => {
    const result = await runCli(['pending', 'orders', 'inventory', '--count', '2'], env);
    expect(result.code).toBe(0);
    expect(lines(result.stdout).map((l) => l.split(/\s{2,}/).map((c) => c.trim()))).toEqual([
      ['ID', 'CONSUMER', 'IDLE', 'DELIVERIES'],
      ['1736154000000-0', 'api-7f9c-1234', '45.0s', '2'],
      ['1736154001000-0', 'api-7f9c-1234', '44.1s', '1'],
    ]);
    expect(fake.requests[0].path).toBe('/ops/streams/orders/groups/inventory/pending');
    expect(fake.requests[0].query.get('count')).toBe('2');
  });
});

describe('errors', () => {
  it('401: the server says why, the CLI says what to do; exit 1', async () => {
    const [bad, none] = await Promise.all([
      runCli(['streams', '--api-key', 'not-a-key'], { PLATFORM_URL: fake.url }),
      runCli(['groups', 'orders'], { PLATFORM_URL: fake.url }),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(lines(bad.stderr)).toEqual([
      'error: 401 Unauthorized: unknown API key (x-api-key)',
      '  the API key is missing or not accepted: pass --api-key <key> or set API_KEY',
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('error: 401 Unauthorized: send an API key in the x-api-key header');
  });

  it('403 for a reader key on an operator action, 404 with the server message, 500 exits 2', async () => {
    const [forbidden, missing, broken] = await Promise.all([
      runCli(['dlq', 'redrive', 'orders', '--all'], { ...env, API_KEY: READER_KEY }),
      runCli(['groups', 'shipments'], env),
      runCli(['groups', 'broken'], env),
    ]);
    expect(forbidden.code).toBe(1);
    expect(lines(forbidden.stderr)).toEqual([
      'error: 403 Forbidden: POST needs an operator key; this key has the reader role',
      "  the API key was accepted but its role may not do this: use an operator's key",
    ]);
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr)).toEqual([
      'error: 404 Not Found: unknown stream "shipments": only streams of registered event contracts are reachable',
      '  (GET /ops/streams/shipments/groups)',
    ]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('error: 500 Internal Server Error: internal error (logged by the server)');
  });

  it('400 with details: each field on its own line', async () => {
    const result = await runCli(['publish', 'PaymentFailed', '--data', '{"orderId":"ORD-7702","amount":1200}'], env);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      'error: 400 Bad Request: PaymentFailed v1 is invalid: userId, userEmail, currency, reason, failedAt',
      '  - data.userId: userId must be a string',
      '  - data.userEmail: userEmail must be a string',
      '  - data.currency: currency must be a string',
      '  - data.reason: reason must be a string',
      '  - data.failedAt: failedAt must be a string',
    ]);
  });

  it('connection refused: asks whether the platform runs there; exit 2', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const [text, json] = await Promise.all([
      runCli(['streams'], { PLATFORM_URL: url, API_KEY: OPERATOR_KEY }),
      runCli(['replay', 'orders', '--group', 'g', '--json', '--url', url]),
    ]);
    for (const result of [text, json]) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `error: cannot connect to ${url} (connection refused): is the platform running at ${url}?\n`,
      );
    }
  });
});

describe('tail', () => {
  it('starts at the end, prints each new entry as one line, and exits after --limit', async () => {
    const tail = startCli(['tail', 'orders', '--limit', '2'], env);
    const lastId = fake.entries.orders.at(-1)!.id;
    await waitUntil(() => fake.requestsTo('GET', '/ops/streams/orders/entries').length >= 2);
    const first = fake.requestsTo('GET', '/ops/streams/orders/entries')[0].query;
    expect(Object.fromEntries(first)).toEqual({ order: 'oldest', cursor: lastId, count: '100' });

    const a = fake.append('orders', 'OrderPlaced', 'ORD-7703', { orderId: 'ORD-7703', total: 40 });
    const b = fake.append('orders', 'OrderCancelled', 'ORD-7703', { orderId: 'ORD-7703', reason: 'out-of-stock' });
    const result = await tail.done;
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      `${a.time}  ${a.id}  OrderPlaced@v1  ORD-7703  order-service  {"orderId":"ORD-7703","total":40}`,
      `${b.time}  ${b.id}  OrderCancelled@v1  ORD-7703  order-service  {"orderId":"ORD-7703","reason":"out-of-stock"}`,
    ]);
    // NOTE: nothing printed before the new entries: the three older ones were skipped.
    expect(result.stdout).not.toContain('ORD-7701');
  });

  it('--from a time, --type: the filter goes to the server, the cursor follows', async () => {
    const result = await runCli(
      ['tail', 'orders', '--from', '2025-01-06T09:00:01Z', '--type', 'OrderPlaced', '--limit', '1'],
      env,
    );
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toHaveLength(1);
    expect(result.stdout).toContain('1736154002000-0  OrderPlaced@v1  ORD-7702');
    const query = fake.requestsTo('GET', '/ops/streams/orders/entries')[0].query;
    expect(query.get('cursor')).toBe('1736154000999-18446744073709551615');
    expect(query.get('type')).toBe('OrderPlaced');
    expect(fake.requestsTo('GET', '/ops/streams')).toHaveLength(0);
  });

  it('--json: one envelope per line', async () => {
    const result = await runCli(['tail', 'orders', '--from', '0', '--limit', '3', '--json'], env);
    expect(result.code).toBe(0);
    const entries = lines(result.stdout).map((l) => JSON.parse(l));
    expect(entries).toEqual(fake.entries.orders);
  });

  it('Ctrl-C exits 0', async () => {
    const tail = startCli(['tail', 'payments'], env);
    await waitUntil(() => fake.requestsTo('GET', '/ops/streams/payments/entries').length >= 1);
    tail.child.kill('SIGINT');
    const result = await tail.done;
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
  });
});

describe('replay', () => {
  it('posts the request, shows progress, and exits 0 when completed', async () => {
    const result = await runCli(
      [
        'replay',
        'orders',
        '--group',
        'analytics',
        '--from',
        '2025-01-06T09:00:00Z',
        '--to',
        '1736154002000-0',
        '--rate',
        '100',
        '--bypass-dedupe',
      ],
      env,
    );
    expect(result.code).toBe(0);
    expect(fake.requestsTo('POST', '/ops/replays')[0].body).toEqual({
      stream: 'orders',
      from: '2025-01-06T09:00:00Z',
      to: '1736154002000-0',
      target: { kind: 'handlers', group: 'analytics' },
      dryRun: false,
      ratePerSec: 100,
      bypassDedupe: true,
    });
    const [id] = fake.replays.keys();
    const out = lines(result.stdout);
    expect(out[0]).toMatch(new RegExp(`^replay ${id} (queued|running)`));
    expect(out).toContainEqual(
      expect.stringMatching(new RegExp(`^replay ${id} running \\d+/60 \\(\\d+%\\) [\\d.]+/s eta \\d`)),
    );
    expect(out.at(-1)).toBe(`replay ${id} completed: 60/60 entries of orders to group analytics (handlers)`);
    expect(fake.requestsTo('GET', `/ops/replays/${id}`).length).toBeGreaterThan(2);
  });

  it('--dry-run --json: the final status as JSON on stdout, progress on stderr', async () => {
    const result = await runCli(
      ['replay', 'orders', '--group', 'projection-v2', '--target', 'new-group', '--dry-run', '--json'],
      env,
    );
    expect(result.code).toBe(0);
    const [id] = fake.replays.keys();
    expect(JSON.parse(result.stdout)).toMatchObject({
      id,
      state: 'completed',
      done: 0,
      total: 60,
      dryRun: true,
      etaSeconds: 0,
    });
    // NOTE: stdout is the one JSON document; progress lines, if any were printed, went to stderr.
    expect(result.stderr).not.toContain('completed');
    expect(fake.requestsTo('POST', '/ops/replays')[0].body).toEqual({
      stream: 'orders',
      target: { kind: 'new-group', group: 'projection-v2' },
      dryRun: true,
      bypassDedupe: false,
    });
  });

  it('a failed replay exits 1 with its error; --no-wait returns at once', async () => {
    const [failed, noWait] = await Promise.all([
      runCli(['replay', 'orders', '--group', 'ghost'], env),
      runCli(
        ['replay', 'orders', '--group', 'email', '--target', 'position', '--from', '1736154000000-0', '--no-wait'],
        env,
      ),
    ]);
    expect(failed.code).toBe(1);
    expect(lines(failed.stdout).at(-1)).toMatch(
      /^replay \S+ failed after 0\/60 entries: no such consumer group "ghost" on orders$/,
    );
    expect(noWait.code).toBe(0);
    expect(noWait.stdout).toMatch(/^replay [0-9a-f-]{36} queued\n$/);
    const noWaitId = noWait.stdout.split(' ')[1];
    expect(fake.requestsTo('GET', `/ops/replays/${noWaitId}`)).toHaveLength(0);
  });

  it('Ctrl-C while waiting cancels the replay on the server and exits 130', async () => {
    const replay = startCli(['replay', 'orders', '--group', 'email', '--rate', '5'], env);
    await replay.waitFor(/running \d+\/60/);
    replay.child.kill('SIGINT');
    const result = await replay.done;
    expect(result.code).toBe(130);
    const [id] = fake.replays.keys();
    expect(fake.requestsTo('DELETE', `/ops/replays/${id}`)).toHaveLength(1);
    expect(fake.replays.get(id)!.cancelRequested).toBe(true);
    expect(lines(result.stderr)).toEqual([
      `interrupted: cancelling replay ${id}...`,
      expect.stringMatching(
        new RegExp(`^replay ${id}: cancel requested at \\d+/60 entries \\(it stops within moments\\)$`),
      ),
    ]);
  });
});

describe('dlq', () => {
  it('ls: a table, filters as query parameters, --json with the envelope', async () => {
    const [all, filtered, json] = await Promise.all([
      runCli(['dlq', 'ls', 'orders'], env),
      runCli(['dlq', 'ls', 'orders', '--group', 'payment', '--reason', 'handler-failed', '--count', '5'], env),
      runCli(['dlq', 'ls', 'orders', '--type', 'OrderConfirmed', '--json'], env),
    ]);
    expect(all.code).toBe(0);
    const rows = lines(all.stdout).map((l) => l.split(/\s{2,}/).map((c) => c.trim()));
    expect(rows[0]).toEqual([
      'ID',
      'DEAD-LETTERED AT',
      'REASON',
      'TYPE',
      'GROUP',
      'HANDLER',
      'ATTEMPTS',
      'ENTRY',
      'ERROR',
    ]);
    expect(rows[1]).toEqual([
      '1736154100000-0',
      '2025-01-06T09:01:40.000Z',
      'handler-failed',
      'OrderPlaced',
      'payment',
      'PaymentHandlers.charge',
      '5',
      '1736154095000-0',
      'gateway timeout after 3000 ms (POST https://gateway.example…',
    ]);
    expect(rows).toHaveLength(4);
    expect(lines(filtered.stdout)).toHaveLength(2);
    const query = fake.requests.find((r) => r.query.get('group') === 'payment')!.query;
    expect(Object.fromEntries(query)).toEqual({ group: 'payment', reason: 'handler-failed', count: '5' });
    const letters = JSON.parse(json.stdout);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      type: 'OrderConfirmed',
      reason: 'invalid-payload',
      envelope: { specversion: '1.0' },
    });
  });

  it('redrive: by ids or filters', async () => {
    const byIds = await runCli(['dlq', 'redrive', 'orders', '--id', '1736154100000-0', '--id', '1736154200000-0'], env);
    expect(byIds.code).toBe(0);
    expect(byIds.stdout).toBe('redrove 2 dead letters with id=1736154100000-0,1736154200000-0 of orders\n');
    expect(fake.requestsTo('POST', '/ops/streams/orders/dead-letters/redrive')[0].body).toEqual({
      ids: ['1736154100000-0', '1736154200000-0'],
    });

    const all = await runCli(['dlq', 'redrive', 'orders', '--all', '--json'], env);
    expect(JSON.parse(all.stdout)).toEqual({ redriven: 1 });
    expect(fake.requestsTo('POST', '/ops/streams/orders/dead-letters/redrive')[1].body).toEqual({ all: true });
  });

  it('purge: refuses without --yes when there is no terminal; purges with it', async () => {
    const refused = await runCli(['dlq', 'purge', 'orders', '--reason', 'invalid-payload'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'error: refusing to purge dead letters with reason=invalid-payload of orders without --yes: there is no terminal to confirm on\n',
    );
    expect(fake.requests).toHaveLength(0);

    const purged = await runCli(['dlq', 'purge', 'orders', '--reason', 'invalid-payload', '--yes'], env);
    expect(purged.code).toBe(0);
    expect(purged.stdout).toBe('purged 1 dead letters with reason=invalid-payload of orders\n');
    expect(fake.deadLetters.map((l) => l.reason)).toEqual(['handler-failed', 'handler-failed']);
  });
});

describe('publish', () => {
  const payment = {
    orderId: 'ORD-7702',
    userId: 'u-bob',
    userEmail: 'bob@example.com',
    amount: 1200,
    currency: 'EUR',
    reason: 'amount-over-limit',
    failedAt: '2025-01-06T09:00:03.000Z',
  };

  it('--data JSON, --version, --subject: 201 printed', async () => {
    const result = await runCli(
      ['publish', 'PaymentFailed', '--data', JSON.stringify(payment), '--version', '1', '--subject', 'ORD-7702'],
      env,
    );
    expect(result.code).toBe(0);
    const entry = fake.entries.payments.at(-1)!;
    expect(result.stdout).toBe(`published PaymentFailed id=${entry.eventId} to payments as ${entry.id}\n`);
    expect(fake.requestsTo('POST', '/ops/events')[0].body).toEqual({
      type: 'PaymentFailed',
      version: 1,
      data: payment,
      subject: 'ORD-7702',
    });
  });

  it('--data @file and @- (stdin), --json', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cli-')), 'payment.json');
    writeFileSync(file, JSON.stringify(payment));
    const [fromFile, fromStdin] = await Promise.all([
      runCli(['publish', 'PaymentFailed', '--data', `@${file}`, '--json'], env),
      runCli(['publish', 'PaymentFailed', '--data', '@-'], env, JSON.stringify({ ...payment, orderId: 'ORD-7709' })),
    ]);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual({
      id: expect.any(String),
      entryId: expect.stringMatching(/^\d+-\d+$/),
      stream: 'payments',
    });
    expect(fromStdin.code).toBe(0);
    expect(
      fake
        .requestsTo('POST', '/ops/events')
        .map((r) => (r.body as any).data.orderId)
        .sort(),
    ).toEqual(['ORD-7702', 'ORD-7709']);
    const missing = await runCli(['publish', 'PaymentFailed', '--data', '@/nonexistent/payment.json'], env);
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'error: cannot read --data @/nonexistent/payment.json: ENOENT\n',
    });
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
