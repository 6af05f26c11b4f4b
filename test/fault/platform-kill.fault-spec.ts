import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { CATALOGUE_SEED } from '@app/contracts';
import { freePort } from '../support/redis-server';
import { testNamespace } from '../support/redis';
import { groupCaughtUp } from '../support/streams';
import { FaultRedis, sleep } from './harness';
import { PlatformProcess } from './platform-process';
import { BookOrder, checkBooks, INVARIANTS, readShopBooks, ShopBooks, ShopClient, table } from './shop-books';
import { orderGenerator, SHOP_GROUPS, USERS } from './shop-load';
import { TranspiledApp, transpileApps } from './transpiled-app';
import { seededRandom } from '../support/seeded-random';

/**
 * SIGKILL the whole platform (the all-in-one app `npm start` runs: every shop service in one
 * process) at random moments while orders pour in over HTTP, restart it each time under the same
 * consumer name, and check that the books balance once everything settled: no order left Pending,
 * stock = initial (reserved = what confirmed orders hold), every confirmed order charged once and
 * never refunded, no cancelled order left charged, one mail per decided order, loyalty points =
 * floor(total) of the confirmed orders. Redis (appendfsync always) survives; only the platform dies.
 *
 * Tunable from the environment (defaults in brackets): PLATFORM_KILL_ORDERS [2000] orders that
 * must answer 201, PLATFORM_KILL_IN_FLIGHT [32] requests at once, PLATFORM_KILL_KILLS [3],
 * PLATFORM_KILL_SEED [random] for the shoppers, baskets and kill moments, PLATFORM_KILL_TS_NODE=1
 * to start the app through ts-node at every (re)start instead of transpiling it once (slower boots).
 */

const ORDERS = Number(process.env.PLATFORM_KILL_ORDERS ?? 2000);
const IN_FLIGHT = Number(process.env.PLATFORM_KILL_IN_FLIGHT ?? 32);
const KILLS = Number(process.env.PLATFORM_KILL_KILLS ?? 3);
const SEED = Number(process.env.PLATFORM_KILL_SEED ?? randomBytes(4).readUInt32LE(0));
/** Kills land in [KILL_FROM, KILL_TO] of the burst (by orders accepted), one random moment in each equal slice. */
const KILL_FROM = 0.1;
const KILL_TO = 0.85;
/** How long the shop may take to settle after the burst (the mail queue's stalled-job check runs every 30 s). */
const SETTLE_TIMEOUT_MS = 100_000;
const BOOT_TIMEOUT_MS = 60_000;
/** The jest timeout, and the budgets inside it, so that the figures are printed even when a phase overruns. */
const TEST_TIMEOUT_MS = 240_000;
/** The burst stops at this point of the test even if fewer than ORDERS answered 201 (then the test fails, after printing). */
const BURST_BUDGET_MS = 140_000;
/** Settling stops at this point of the test at the latest (reading the books takes seconds). */
const SETTLE_BUDGET_MS = 215_000;
/** Client pause after a failed request (platform down): keeps sending without spinning. */
const RETRY_PAUSE_MS = 200;
const CONSUMER_NAME = 'platform-kill-1';
/** Crashes (exits the test did not cause) after which the burst stops; twice as many and the test stops restarting the platform. */
const MAX_CRASHES = 6;

/**
 * Stock written before the first boot (the inventory seeds only when its `seeded` flag is unset):
 * more than the catalogue's seed, so that orders are confirmed all through the burst while the
 * scarcer skus run out at different moments (out-of-stock cancellations, refunds after a charge).
 */
const STOCK: Record<string, number> = {
  'SKU-MUG': 2000,
  'SKU-BAG': 2000,
  'SKU-TEE': 700,
  'SKU-CAP': 300,
  'SKU-PEN': 100,
  'SKU-LTD': 3,
};

interface Crash {
  label: string;
  exit: string;
  /** The line that says why it died: the last one naming an error that is not a JSON log line. */
  reason: string;
  /** The distinct messages of the warn/error log lines before it (HTTP request lines left out). */
  before: string[];
}

function crashOf(label: string, exit: unknown, output: string): Crash {
  const lines = output.split('\n');
  const reason =
    lines
      .filter((line) => !line.startsWith('{') && /Error|error:/.test(line))
      .pop()
      ?.trim() ?? '(no error line)';
  const before = [
    ...new Set(
      lines
        .filter((line) => line.startsWith('{') && !line.includes('"req":'))
        .map((line) => /"msg":"([^"]{0,200})/.exec(line)?.[1] ?? ''),
    ),
  ]
    .filter((msg) => msg && !msg.startsWith('API_KEYS is not set'))
    .slice(-4);
  return { label, exit: JSON.stringify(exit), reason, before };
}

interface BurstStats {
  posted: number;
  created: number;
  errors: number;
  /** Connection refused: the platform was down. */
  refused: number;
  /** The connection broke mid-request (killed while answering) or timed out: the response was lost. */
  lost: number;
  /** Answers other than 201, by status. */
  statuses: Record<number, number>;
  inFlight: number;
}

interface KillRecord {
  atCreated: number;
  inFlight: number;
  signal: string | null;
  downSeconds: number;
}

describe('fault: SIGKILL the whole platform during an order burst, restart it; the books balance', () => {
  let redis: FaultRedis | undefined;
  let mailQueue: Queue | undefined;
  let transpiled: TranspiledApp | undefined;
  /** The platform's output, one file per incarnation: kept when the test fails (its path is printed). */
  let logDir: string | undefined;
  let keepLogs = true;

  afterAll(async () => {
    await PlatformProcess.killAll();
    transpiled?.remove();
    if (logDir && !keepLogs) rmSync(logDir, { recursive: true, force: true });
    await mailQueue?.close().catch(() => undefined);
    await redis?.destroy();
  });

  it(
    `${ORDERS} orders, ${IN_FLIGHT} in flight, ${KILLS} SIGKILLs of the process group: nothing Pending, stock, payments, mails and points balance`,
    async () => {
      const began = Date.now();
      const random = seededRandom(SEED);
      const nextOrder = orderGenerator(seededRandom(SEED ^ 0x5bd1e995));
      redis = await FaultRedis.start();
      const ns = testNamespace('platform-kill');
      const port = await freePort();
      const env: Record<string, string> = {
        REDIS_URL: redis.url,
        EVENT_BUS_NAMESPACE: ns,
        PORT: String(port),
        CONSUMER_NAME,
        CONSUMER_BLOCK_MS: '200',
        CONSUMER_BATCH_SIZE: '50',
        EMAIL_RETRY_DELAY_MS: '50',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        OTEL_SDK_DISABLED: 'true',
      };
      const errorLines: string[] = [];
      const transpileStarted = Date.now();
      if (process.env.PLATFORM_KILL_TS_NODE !== '1') transpiled = transpileApps();
      const transpileSeconds = (Date.now() - transpileStarted) / 1000;
      const logs = mkdtempSync(join(tmpdir(), 'platform-kill-'));
      logDir = logs;
      const progress = (line: string): void => {
        process.stderr.write(`platform-kill +${((Date.now() - began) / 1000).toFixed(1)}s: ${line}\n`);
      };

      // Stock of the test's own, before the inventory's first start (its seed then leaves it alone).
      const inventoryKey = (name: string): string => `${ns}:svc:inventory:${name}`;
      const names = Object.fromEntries(CATALOGUE_SEED.map((c) => [c.sku, c.name]));
      await redis.client
        .multi()
        .set(inventoryKey('seeded'), new Date().toISOString())
        .hset(inventoryKey('stock'), STOCK)
        .hset(inventoryKey('reserved'), Object.fromEntries(Object.keys(STOCK).map((sku) => [sku, 0])))
        .hset(inventoryKey('catalogue'), Object.fromEntries(Object.keys(STOCK).map((sku) => [sku, names[sku] ?? sku])))
        .exec();

      let incarnation = 0;
      /** Exits the test did not cause. */
      const crashes: Crash[] = [];
      let platform!: PlatformProcess;
      /**
       * Starts the next incarnation. One that exits by itself is a crash: recorded (the test fails on
       * it, after printing the books) and restarted at once, as a supervisor would, so that the books
       * can still be read.
       */
      const start = (): PlatformProcess => {
        incarnation++;
        const started = PlatformProcess.spawn(`platform#${incarnation}`, env, {
          errorLines,
          logFile: join(logs, `platform-${incarnation}.log`),
          transpiled,
        });
        platform = started;
        void started.exited.then((exit) => {
          if (started.signalled) return;
          const crash = crashOf(started.label, exit, started.output);
          crashes.push(crash);
          const again = platform === started && crashes.length < 2 * MAX_CRASHES;
          progress(
            `${started.label} CRASHED ${crash.exit}: ${crash.reason}; ${again ? 'restarting it' : 'not restarting it'}`,
          );
          if (again) start();
        });
        return started;
      };
      /** Waits until the current incarnation is ready (following the supervisor's restarts). */
      const ready = async (): Promise<void> => {
        for (;;) {
          const current = platform;
          try {
            return await current.waitReady(BOOT_TIMEOUT_MS);
          } catch (error) {
            if (platform === current) throw error;
          }
        }
      };
      start();
      const bootStarted = Date.now();
      await ready();
      const bootSeconds = (Date.now() - bootStarted) / 1000;
      const shop = new ShopClient(platform.url);
      const initialStock = Object.fromEntries(
        Object.entries(await shop.stock()).map(([sku, level]) => [sku, level.available + level.reserved]),
      );
      const stockAsSeeded = Object.entries(STOCK).every(([sku, n]) => initialStock[sku] === n);
      progress(
        `platform ready in ${bootSeconds.toFixed(1)} s (seed ${SEED}, port ${port}, redis ${redis.url}, namespace ${ns}, logs in ${logs})`,
      );

      // The burst: IN_FLIGHT clients, each placing orders one after another until ORDERS answered 201.
      const stats: BurstStats = { posted: 0, created: 0, errors: 0, refused: 0, lost: 0, statuses: {}, inFlight: 0 };
      const accepted = new Set<string>();
      const burstStarted = Date.now();
      const burstDeadline = began + BURST_BUDGET_MS;
      const burstOver = (): boolean =>
        stats.created >= ORDERS || Date.now() > burstDeadline || crashes.length >= MAX_CRASHES;
      const client = async (): Promise<void> => {
        while (!burstOver()) {
          const body = nextOrder();
          stats.posted++;
          stats.inFlight++;
          try {
            const res = await fetch(`${platform.url}/orders`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
              signal: AbortSignal.timeout(15_000),
            });
            const text = await res.text();
            if (res.status === 201) {
              stats.created++;
              accepted.add((JSON.parse(text) as { orderId: string }).orderId);
            } else {
              stats.errors++;
              stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
              await sleep(RETRY_PAUSE_MS);
            }
          } catch (error) {
            stats.errors++;
            const code = (error as { cause?: { code?: string } }).cause?.code;
            if (code === 'ECONNREFUSED') stats.refused++;
            else stats.lost++;
            await sleep(RETRY_PAUSE_MS);
          } finally {
            stats.inFlight--;
          }
        }
      };

      // The killer: one random moment per slice of [KILL_FROM, KILL_TO] of the burst, then a restart.
      const kills: KillRecord[] = [];
      const killer = async (): Promise<void> => {
        const slice = (KILL_TO - KILL_FROM) / KILLS;
        for (let k = 0; k < KILLS; k++) {
          const at = Math.floor(ORDERS * (KILL_FROM + slice * (k + random())));
          while (stats.created < at && !burstOver()) await sleep(5);
          if (burstOver()) return;
          await sleep(Math.floor(random() * 200));
          const record: KillRecord = {
            atCreated: stats.created,
            inFlight: stats.inFlight,
            signal: null,
            downSeconds: 0,
          };
          const down = Date.now();
          record.signal = (await platform.kill()).signal;
          start();
          await ready();
          record.downSeconds = (Date.now() - down) / 1000;
          kills.push(record);
          progress(
            `kill ${k + 1}: ${record.signal} at ${record.atCreated} accepted, ${record.inFlight} in flight; ready again after ${record.downSeconds.toFixed(1)} s`,
          );
        }
      };

      const ticker = setInterval(
        () => progress(`burst: ${stats.created} accepted, ${stats.errors} errors, ${stats.inFlight} in flight`),
        10_000,
      );
      try {
        await Promise.all([killer(), ...Array.from({ length: IN_FLIGHT }, client)]);
      } finally {
        clearInterval(ticker);
      }
      const burstSeconds = (Date.now() - burstStarted) / 1000;
      progress(
        `burst over in ${burstSeconds.toFixed(1)} s: ${stats.posted} posted, ${stats.created} accepted, ${stats.errors} errors; settling`,
      );

      // Settle: every shop group has read and acknowledged everything, the mail queue is empty, and
      // nothing moved between two looks a second apart.
      mailQueue = new Queue('email', {
        connection: { url: redis.url, maxRetriesPerRequest: null },
        prefix: `${ns}:bull`,
      });
      mailQueue.on('error', () => undefined);
      const queue = mailQueue;
      const settleStarted = Date.now();
      /** Why the last look found the shop still moving. */
      let moving = '';
      const fingerprint = async (): Promise<string | undefined> => {
        for (const [stream, groups] of Object.entries(SHOP_GROUPS)) {
          for (const group of groups) {
            if (!(await groupCaughtUp(redis!.client, ns, stream, group))) {
              moving = `group ${group} behind on ${stream}`;
              return undefined;
            }
          }
        }
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
        if (Object.values(counts).some((n) => n > 0)) {
          moving = `mail jobs ${JSON.stringify(Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)))}`;
          return undefined;
        }
        moving = 'stream lengths or sent log changed';
        const lengths = await Promise.all(Object.keys(SHOP_GROUPS).map((s) => redis!.client.xlen(`${ns}:{${s}}`)));
        return [...lengths, await redis!.client.llen(`${ns}:svc:email:mails`)].join('/');
      };
      let settled = false;
      let previous: string | undefined;
      let lastMoving = '';
      const settleDeadline = Math.min(settleStarted + SETTLE_TIMEOUT_MS, began + SETTLE_BUDGET_MS);
      // NOTE: after a crash loop the supervisor may have given up: one more start, with no orders coming in.
      if (!platform.isAlive) start();
      while (Date.now() < settleDeadline) {
        const now = await fingerprint();
        if (now !== undefined && now === previous) {
          settled = true;
          break;
        }
        if (now === undefined && moving !== lastMoving) progress(`settling: ${(lastMoving = moving)}`);
        previous = now;
        await sleep(1_000);
      }
      const settleSeconds = (Date.now() - settleStarted) / 1000;
      progress(
        `${settled ? 'settled' : 'NOT settled'} after ${settleSeconds.toFixed(1)} s (${settled ? `streams/sent log ${previous}` : moving}); reading the books`,
      );

      await ready();
      const books: ShopBooks = await readShopBooks(shop, redis.client, ns, USERS, initialStock);
      const verdict = checkBooks(books, accepted);
      const deadLetters = await Promise.all(
        Object.keys(SHOP_GROUPS).map(async (s) => `${s}=${await redis!.client.xlen(`${ns}:{${s}}:dlq`)}`),
      );
      const knownIds = new Set(books.orders.map((o) => o.orderId));
      const unanswered = [...knownIds].filter((id) => !accepted.has(id)).length;

      const broken = Object.fromEntries(
        INVARIANTS.filter((name) => verdict.violations[name].length > 0).map((name) => [
          name,
          `${verdict.violations[name].length} violation(s), e.g. ${verdict.violations[name].slice(0, 5).join('; ')}`,
        ]),
      );
      const pendingOrders: BookOrder[] = books.orders.filter((o) => o.status === 'Pending');
      const errorMessages = [
        ...new Set(errorLines.map((line) => line.replace(/.*"msg":"([^"]{0,160}).*/, '$1'))),
      ].slice(0, 8);
      console.log(
        [
          table(`fault platform-kill (seed ${SEED}, namespace ${ns})`, [
            ['orders POSTed', stats.posted],
            ['answered 201', stats.created],
            [
              'errors',
              `${stats.errors} (refused ${stats.refused}, lost in flight ${stats.lost}, statuses ${JSON.stringify(stats.statuses)})`,
            ],
            ['known, never answered 201', unanswered],
            ...Object.entries(verdict.figures).map(([k, v]): [string, string | number] => [k, v]),
            ['dead letters', deadLetters.join(' ')],
            [
              'crashes (exits the test did not cause)',
              crashes.length === 0
                ? 0
                : `${crashes.length}, e.g. ${crashes[0].label} ${crashes[0].exit}: ${crashes[0].reason}, after: ${crashes[0].before.join(' | ')}`,
            ],
            [
              'kills',
              kills
                .map(
                  (k) =>
                    `at ${k.atCreated} accepted (${k.inFlight} in flight) ${k.signal}, down ${k.downSeconds.toFixed(1)} s`,
                )
                .join('; '),
            ],
            [
              'first boot',
              `${bootSeconds.toFixed(1)} s${transpiled ? ` (after transpiling the apps once: ${transpileSeconds.toFixed(1)} s)` : ' (ts-node)'}`,
            ],
            ['burst', `${burstSeconds.toFixed(1)} s`],
            [
              'time to settle',
              `${settleSeconds.toFixed(1)} s${settled ? '' : ` (NOT settled within its budget: ${moving})`}`,
            ],
            ['stock as seeded by the test', stockAsSeeded ? 'yes' : `no: ${JSON.stringify(initialStock)}`],
            [
              'platform error log lines',
              `${errorLines.length}${errorMessages.length ? `: ${errorMessages.join(' | ')}` : ''}`,
            ],
            ['platform logs', `${logs} (kept if the test fails)`],
            ['total', `${((Date.now() - began) / 1000).toFixed(1)} s`],
          ]),
          table(
            'stock per sku (initial / available / reserved)',
            Object.keys(initialStock)
              .sort()
              .map((sku) => [
                sku,
                `${initialStock[sku]} / ${books.stock[sku]?.available} / ${books.stock[sku]?.reserved}`,
              ]),
          ),
          table(
            'invariants',
            INVARIANTS.map((name) => {
              const v = verdict.violations[name];
              return [name, v.length === 0 ? 'ok' : `FAILED x${v.length}: ${v.slice(0, 3).join('; ')}`];
            }),
          ),
          pendingOrders.length > 0
            ? table(
                'pending orders (first 10)',
                pendingOrders
                  .slice(0, 10)
                  .map((o) => [
                    o.orderId,
                    `${o.userId} total ${o.total}, payment ${books.payments[o.orderId]?.status ?? 'none'}, 201 seen: ${accepted.has(o.orderId) ? 'yes' : 'no'}`,
                  ]),
              )
            : '',
        ].join('\n'),
      );

      // Every failure at once: the invariants, the platform's own crashes, and that the run did what it
      // says (the burst, the kills, every kind of outcome, so that no check is vacuous).
      const failures: string[] = [
        ...Object.entries(broken).map(([name, what]) => `${name}: ${what}`),
        ...crashes.map(
          (c) =>
            `the platform crashed: ${c.label} exited by itself ${c.exit}: ${c.reason} (after: ${c.before.join(' | ')})`,
        ),
      ];
      if (stats.created < ORDERS) failures.push(`the burst: only ${stats.created} of ${ORDERS} orders answered 201`);
      if (kills.length < KILLS || kills.some((k) => k.signal !== 'SIGKILL'))
        failures.push(`the kills: ${kills.length} of ${KILLS} (${kills.map((k) => k.signal).join(', ')})`);
      if (stats.errors === 0) failures.push('no request failed: the kills did not land during the burst');
      if (!settled) failures.push(`the shop did not settle within ${settleSeconds.toFixed(0)} s`);
      for (const figure of [
        'confirmed',
        'cancelled out-of-stock',
        'cancelled payment-declined',
        'gateway refunds',
        'units reserved',
      ]) {
        if (!(Number(verdict.figures[figure]) > 0))
          failures.push(`vacuous run: ${figure} = ${verdict.figures[figure]}`);
      }
      keepLogs = failures.length > 0;
      expect(failures).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});

/** The judge itself: books that balance pass, and each kind of imbalance is named. */
describe('fault platform-kill: checkBooks (self-test, no processes)', () => {
  const order = (
    orderId: string,
    status: BookOrder['status'],
    userId: string,
    total: number,
    items: BookOrder['items'],
    reason?: string,
  ): BookOrder => ({
    orderId,
    status,
    userId,
    total,
    items,
    cancellationReason: reason,
  });
  function balanced(): ShopBooks {
    return {
      orders: [
        order('O1', 'Confirmed', 'ann', 37.4, [{ sku: 'A', quantity: 2 }]),
        order('O2', 'Cancelled', 'ann', 18, [{ sku: 'B', quantity: 1 }], 'out-of-stock'),
        order('O3', 'Cancelled', 'declined-bo', 24, [{ sku: 'A', quantity: 1 }], 'payment-declined'),
      ],
      listedTotal: 3,
      initialStock: { A: 10, B: 0 },
      stock: { A: { available: 8, reserved: 2 }, B: { available: 0, reserved: 0 } },
      payments: {
        O1: { status: 'charged', amount: 37.4 },
        O2: { status: 'refunded', amount: 18 },
        O3: { status: 'declined', amount: 24 },
      },
      gateway: {
        charges: {
          O1: { ok: true, paymentId: 'p1' },
          O2: { ok: true, paymentId: 'p2' },
          O3: { ok: false, reason: 'card-declined' },
        },
        refunds: { 'refund:O2': { paymentId: 'p2', amount: 18 } },
        counts: { chargeCalls: 3 },
      },
      mails: [
        { id: 'mail.O1.confirmed', orderId: 'O1', template: 'order-confirmed', to: 'ann@example.com' },
        { id: 'mail.O2.cancelled', orderId: 'O2', template: 'order-cancelled', to: 'ann@example.com' },
        { id: 'mail.O3.cancelled', orderId: 'O3', template: 'order-cancelled', to: 'declined-bo@example.com' },
      ],
      mailListsFull: [],
      sentLogLength: 3,
      failedMailJobs: 0,
      loyalty: {
        ann: {
          points: 37,
          history: [
            { orderId: 'O1', points: 37, reason: 'payment' },
            { orderId: 'O2', points: 18, reason: 'payment' },
            { orderId: 'O2', points: -18, reason: 'refund' },
          ],
        },
        'declined-bo': { points: 0, history: [] },
      },
      users: ['ann', 'declined-bo'],
    };
  }
  const failing = (books: ShopBooks, accepted: string[] = ['O1']): string[] =>
    Object.entries(checkBooks(books, accepted).violations)
      .filter(([, v]) => v.length > 0)
      .map(([name]) => name);

  it('passes books that balance', () => {
    expect(failing(balanced())).toEqual([]);
  });

  const cases: Array<[string, (b: ShopBooks) => void, string[], string[]?]> = [
    [
      'a Pending order',
      (b) => (b.orders.push(order('O4', 'Pending', 'ann', 9.9, [{ sku: 'A', quantity: 1 }])), (b.listedTotal = 4)),
      ['orders: none Pending'],
    ],
    ['a 201 the shop does not know', () => undefined, ['orders: every 201 is known'], ['O1', 'O7']],
    ['stock lost', (b) => (b.stock.A.available = 7), ['inventory: available + reserved = initial']],
    [
      'a reservation kept for a cancelled order',
      (b) => Object.assign(b.stock.A, { available: 7, reserved: 3 }),
      ['inventory: reserved = confirmed quantity'],
    ],
    [
      'a confirmed order refunded',
      (b) => (b.gateway.refunds['refund:O1'] = { paymentId: 'p1', amount: 37.4 }),
      ['payment: confirmed charged once, not refunded'],
    ],
    [
      'a confirmed order never charged',
      (b) => delete b.gateway.charges.O1,
      ['payment: confirmed charged once, not refunded'],
    ],
    [
      'a cancelled order left charged',
      (b) => delete b.gateway.refunds['refund:O2'],
      ['payment: no cancelled order left charged'],
    ],
    [
      'a cancelled order whose record says charged',
      (b) => (b.payments.O2 = { status: 'charged', amount: 18 }),
      ['payment: no cancelled order left charged'],
    ],
    [
      'a charge for no order',
      (b) => (b.gateway.charges.O9 = { ok: true }),
      ['payment: no charge for an unknown order'],
    ],
    [
      'a confirmation mail missing',
      (b) => (b.mails.shift(), (b.sentLogLength = 2)),
      ['email: one confirmation per confirmed order'],
    ],
    [
      'a confirmation mail for a cancelled order',
      (b) => (
        b.mails.push({ id: 'mail.O2.confirmed', orderId: 'O2', template: 'order-confirmed', to: 'ann@example.com' }),
        (b.sentLogLength = 4)
      ),
      ['email: one confirmation per confirmed order'],
    ],
    [
      'a cancellation mail missing',
      (b) => (b.mails.pop(), (b.sentLogLength = 2)),
      ['email: one cancellation per cancelled order'],
    ],
    [
      'a mail for no order',
      (b) => (
        b.mails.push({ id: 'mail.O9.cancelled', orderId: 'O9', template: 'order-cancelled', to: 'ann@example.com' }),
        (b.sentLogLength = 4)
      ),
      ['email: no mail for another order'],
    ],
    ["a mail not in the shoppers' lists", (b) => (b.sentLogLength = 4), ['email: no mail for another order']],
    [
      'points not taken back',
      (b) => ((b.loyalty.ann.points = 55), b.loyalty.ann.history.pop()),
      ['loyalty: points = floor(total) of confirmed'],
    ],
    [
      'points awarded twice',
      (b) => (
        (b.loyalty.ann.points = 74),
        b.loyalty.ann.history.push({ orderId: 'O1', points: 37, reason: 'payment' })
      ),
      ['loyalty: points = floor(total) of confirmed'],
    ],
  ];
  // NOTE: every row gets its 4th value: jest passes a done callback for parameters a row lacks.
  it.each(cases.map(([what, breakIt, expected, accepted]) => [what, breakIt, expected, accepted ?? ['O1']] as const))(
    'names %s',
    (_what, breakIt, expected, accepted) => {
      const books = balanced();
      breakIt(books);
      expect(failing(books, accepted)).toEqual(expected);
    },
  );
});
