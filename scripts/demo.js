#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: the platform, started like `npm start`, shown at work.
 *
 *   npm run demo                   boot, place 4 orders, print every event as it happens, then the results
 *   npm run demo -- --keep         keep the demo's keys in Redis afterwards (see the namespace printed)
 *   npm run demo -- --timeout 30   seconds the orders get to reach Confirmed / Cancelled (default 20)
 *
 * How: the platform is `node scripts/start.js` as a child process (the same Redis check, build
 * when sources are newer than dist/, and the same graceful stop), with PORT set to a free port and
 * EVENT_BUS_NAMESPACE to a fresh `demo-<time>`, so a run never mixes with `npm start`'s data
 * (`shop`) nor with an earlier run. Redis: the one at REDIS_URL (default redis://127.0.0.1:6379)
 * if it answers; the demo's keys are deleted from it afterwards unless --keep. If nothing answers
 * and `redis-server` is on PATH, the demo starts a throwaway one on a free port without
 * persistence (start.js would start one that writes .data/redis, which a demo should not fill);
 * otherwise start.js explains how to get a Redis.
 *
 * While the orders flow, the three streams are tailed with XREAD BLOCK on a connection of its own,
 * from their last ids taken before the first order (what `$` means at that moment), and each
 * event is printed as one line: time since the first order, stream, `source -> type` indented
 * under the event that caused it (`└ #n` = its causationid), subject (the order id), a summary.
 *
 * Exit 0: every order reached Confirmed or Cancelled within the timeout, their effects (refund,
 * mails, loyalty, analytics) settled, and the outcomes are the expected ones. Otherwise non-zero
 * with the reason. The platform (and a redis-server the demo started) is stopped either way; its
 * log is in .data/demo/platform.log.
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const Redis = require('ioredis');

const ROOT = path.resolve(__dirname, '..');
const START_JS = path.join(__dirname, 'start.js');
const LOG_DIR = path.join(ROOT, '.data', 'demo');
const LOG_FILE = path.join(LOG_DIR, 'platform.log');
const DEFAULT_URL = 'redis://127.0.0.1:6379';
const BOOT_TIMEOUT_MS = 180_000; // a first run builds the app
const STOP_TIMEOUT_MS = 20_000;
const QUIET_MS = 600; // no new event for this long (with everything else settled) = done
const STREAMS = ['orders', 'inventory', 'payments'];
const FINAL = new Set(['Confirmed', 'Cancelled']);

// ---------------------------------------------------------------------------------------------
// Output

const COLOR = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
const sgr = (code) => (text) => (COLOR ? `\x1b[${code}m${text}\x1b[0m` : String(text));
const c = {
  bold: sgr('1'),
  dim: sgr('2'),
  red: sgr('31'),
  green: sgr('32'),
  yellow: sgr('33'),
  blue: sgr('34'),
  magenta: sgr('35'),
  cyan: sgr('36'),
};
const STREAM_COLOR = { orders: c.cyan, inventory: c.magenta, payments: c.yellow };
const TYPE_COLOR = {
  OrderConfirmed: c.green,
  OrderCancelled: c.red,
  PaymentFailed: c.red,
  InventoryReservationFailed: c.red,
  PaymentRefunded: c.yellow,
  InventoryReleased: c.yellow,
};
const say = (line = '') => process.stdout.write(`${line}\n`);
const heading = (text) => say(`\n${c.bold(text)}`);
const fail = (line) => process.stderr.write(`${c.red(`[demo] ${line}`)}\n`);
const note = (line) => say(c.dim(`[demo] ${line}`));

const money = (amount, currency = 'EUR') => `${Number(amount).toFixed(2)} ${currency}`;
const lines = (items) => (items || []).map((i) => `${i.quantity}×${i.sku}`).join(' + ');
const seconds = (ms) => `${ms < 0 ? '-' : '+'}${(Math.abs(ms) / 1000).toFixed(3)}s`;

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const options = { keep: false, timeoutMs: 20_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') options.keep = true;
    else if (arg === '--timeout' || arg.startsWith('--timeout=')) {
      const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      const value = Number(raw);
      if (!Number.isFinite(value) || value <= 0) {
        fail(`--timeout wants a number of seconds, got ${raw}`);
        process.exit(2);
      }
      options.timeoutMs = value * 1000;
    } else if (arg === '--help' || arg === '-h') {
      say('usage: npm run demo [-- --keep] [-- --timeout <seconds>]   (see the top of scripts/demo.js)');
      process.exit(0);
    } else {
      fail(`unknown argument ${arg} (try --help)`);
      process.exit(2);
    }
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Processes and Redis

/** A TCP port nothing listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One PING with no retries: true when Redis answered. */
async function answers(url, timeoutMs = 1500) {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
  });
  client.on('error', () => {}); // the outcome is the answer; errors mean "no"
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function isLocal(url) {
  try {
    const { hostname, protocol } = new URL(url);
    return protocol === 'redis:' && ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname);
  } catch {
    return false;
  }
}

function redact(raw) {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return raw;
  }
}

/** A redis-server without persistence on a free port, for this run only. */
async function startThrowawayRedis(state) {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: 'ignore', detached: true },
  );
  state.redis = child;
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !exited) {
    if (await answers(url, 500)) return url;
    await sleep(100);
  }
  throw new Error(`started redis-server on port ${port} but it did not answer PING`);
}

function alive(child) {
  return Boolean(child) && child.exitCode === null && child.signalCode === null;
}

function waitExit(child, ms) {
  if (!alive(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM start.js: it forwards it to the app, waits for its graceful stop, stops its own redis-server. */
async function stopPlatform(state) {
  const child = state.platform;
  if (!alive(child)) return;
  child.kill('SIGTERM');
  if (await waitExit(child, STOP_TIMEOUT_MS)) return;
  fail(`the platform did not stop within ${STOP_TIMEOUT_MS / 1000} s: asking again (forces it)`);
  child.kill('SIGTERM');
  if (await waitExit(child, 5_000)) return;
  fail('the platform still runs: killing scripts/start.js');
  child.kill('SIGKILL');
  await waitExit(child, 2_000);
}

async function stopRedis(state) {
  const child = state.redis;
  if (!alive(child)) return;
  child.kill('SIGTERM');
  if (!(await waitExit(child, 5_000))) child.kill('SIGKILL');
}

/** Deletes every key of the demo's namespace (only ever `<ns>:*`). */
async function deleteNamespace(url, ns) {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {});
  let removed = 0;
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${ns}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) removed += await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return removed;
}

function tailOfLog(count) {
  try {
    return fs.readFileSync(LOG_FILE, 'utf8').trimEnd().split('\n').slice(-count);
  } catch {
    return ['(no log)'];
  }
}

// ---------------------------------------------------------------------------------------------
// The platform

function startPlatform(state, env) {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const log = fs.createWriteStream(LOG_FILE);
  state.log = log;
  // Own process group, as start.js does for its children: the terminal's Ctrl-C reaches only us.
  const child = spawn(process.execPath, [START_JS], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  state.platform = child;
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.setEncoding('utf8').on('data', (chunk) => {
      log.write(chunk);
      pending += chunk;
      const complete = pending.split('\n');
      pending = complete.pop();
      // start.js's own lines (Redis found, build, which main.js) are worth seeing; the app's logs stay in the file.
      for (const line of complete) if (line.startsWith('[start]') && !state.quiet) say(c.dim(`  ${line}`));
    });
  }
  child.once('exit', (code, signal) => {
    state.platformExit = signal || `code ${code}`;
  });
  return child;
}

async function waitListening(state, base) {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!alive(state.platform)) {
      throw new Error(`the platform exited (${state.platformExit}) before it listened`);
    }
    try {
      const res = await fetch(`${base}/docs-json`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`the platform did not answer ${base}/docs-json within ${BOOT_TIMEOUT_MS / 1000} s`);
}

async function http(base, method, route, body) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, ok: res.ok, json, text };
}

async function getJson(base, route) {
  const res = await http(base, 'GET', route);
  return res.ok ? res.json : undefined;
}

// ---------------------------------------------------------------------------------------------
// The event tail

function entryMs(entryId) {
  return Number(entryId.split('-')[0]);
}

function compareEntryIds(a, b) {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/** A short summary of an event's data, by type. */
function summarize(type, data) {
  if (!data || typeof data !== 'object') return '';
  switch (type) {
    case 'OrderPlaced':
      return `${data.userId}: ${lines(data.items)}, total ${money(data.total, data.currency)}`;
    case 'OrderConfirmed':
      return `total ${money(data.total, data.currency)}, payment ${data.paymentId}`;
    case 'OrderCancelled':
      return `${data.reason}: ${data.detail}`;
    case 'InventoryReserved':
      return `reserved ${lines(data.lines)}`;
    case 'InventoryReleased':
      return `released ${lines(data.lines)}`;
    case 'InventoryReservationFailed':
      return `short: ${(data.short || []).map((s) => `${s.sku} (requested ${s.requested}, available ${s.available})`).join(', ')}`;
    case 'PaymentSucceeded':
      return `charged ${money(data.amount, data.currency)} (${data.paymentId})`;
    case 'PaymentFailed':
      return `declined ${money(data.amount, data.currency)}: ${data.reason}`;
    case 'PaymentRefunded':
      return `refunded ${money(data.amount, data.currency)} (${data.paymentId})`;
    default: {
      const text = JSON.stringify(data);
      return text.length > 80 ? `${text.slice(0, 77)}...` : text;
    }
  }
}

class EventTail {
  constructor(url, ns, t0) {
    this.reader = new Redis(url, { maxRetriesPerRequest: null });
    this.reader.on('error', () => {}); // reconnects on its own; a lost tail shows as missing lines
    this.ns = ns;
    this.t0 = t0;
    this.keys = STREAMS.map((s) => `${ns}:{${s}}`);
    this.events = []; // in print order
    this.byId = new Map(); // event id -> printed event
    this.lastEventAt = Date.now();
    this.stopped = false;
  }

  /** The streams' last ids now: the `$` of this moment, made explicit so no event between now and the first XREAD is missed. */
  async positions(client) {
    this.ids = await Promise.all(
      this.keys.map(async (key) => {
        try {
          const info = await client.call('XINFO', 'STREAM', key);
          const at = info.indexOf('last-generated-id');
          return at >= 0 ? String(info[at + 1]) : '0-0';
        } catch {
          return '0-0'; // no such stream yet
        }
      }),
    );
  }

  start() {
    this.loop = (async () => {
      while (!this.stopped) {
        let reply;
        try {
          reply = await this.reader.xread('COUNT', 500, 'BLOCK', 250, 'STREAMS', ...this.keys, ...this.ids);
        } catch (error) {
          if (this.stopped) break;
          fail(`XREAD failed: ${error.message}`);
          await sleep(250);
          continue;
        }
        if (!reply) continue;
        const batch = [];
        for (const [key, entries] of reply) {
          const index = this.keys.indexOf(key);
          for (const [entryId, fields] of entries) {
            this.ids[index] = entryId;
            batch.push({ stream: STREAMS[index], entryId, fields: toObject(fields) });
          }
        }
        // One reply is grouped by stream; across streams, the entry ids (ms-seq of one Redis clock) give the real order.
        batch.sort((a, b) => compareEntryIds(a.entryId, b.entryId));
        for (const entry of batch) this.print(entry);
      }
    })();
  }

  print({ stream, entryId, fields }) {
    let data;
    try {
      data = JSON.parse(fields.data || 'null');
    } catch {
      data = fields.data;
    }
    const cause = fields.causationid ? this.byId.get(fields.causationid) : undefined;
    const event = {
      n: this.events.length + 1,
      id: fields.id,
      type: fields.type,
      source: fields.source,
      subject: fields.subject,
      stream,
      entryId,
      data,
      causationid: fields.causationid,
      depth: cause ? cause.depth + 1 : 0,
    };
    this.events.push(event);
    if (event.id) this.byId.set(event.id, event);
    this.lastEventAt = Date.now();

    let marker = '';
    if (cause) marker = `${'  '.repeat(event.depth - 1)}└ #${cause.n} `;
    else if (fields.causationid && fields.causationid !== fields.id) marker = `└ ${fields.causationid.slice(0, 8)} `; // caused by an event from before the demo
    const what = `${fields.source} -> ${fields.type}`;
    const typeColor = TYPE_COLOR[fields.type] || ((s) => s);
    const column = `${c.dim(marker)}${c.dim(`${fields.source} ->`)} ${typeColor(fields.type)}`;
    const width = marker.length + what.length;
    say(
      [
        c.dim(seconds(entryMs(entryId) - this.t0).padStart(8)),
        STREAM_COLOR[stream](stream.padEnd(9)),
        c.bold(`#${event.n}`.padEnd(4)),
        column + ' '.repeat(Math.max(0, 58 - width)),
        (fields.subject || '-').padEnd(19),
        summarize(fields.type, data),
      ].join('  '),
    );
  }

  async stop() {
    this.stopped = true;
    await Promise.race([this.loop, sleep(1500)]);
    this.reader.disconnect();
  }
}

function toObject(fields) {
  const out = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]] = fields[i + 1];
  return out;
}

// ---------------------------------------------------------------------------------------------
// The scenario

const SCENARIO = [
  {
    label: 'normal',
    userId: 'alice',
    items: [
      { sku: 'SKU-MUG', quantity: 2 },
      { sku: 'SKU-TEE', quantity: 1 },
    ],
  },
  { label: 'declined', userId: 'declined-bob', items: [{ sku: 'SKU-CAP', quantity: 1 }] },
  { label: 'LTD race 1', userId: 'carol', items: [{ sku: 'SKU-LTD', quantity: 1 }], race: true },
  { label: 'LTD race 2', userId: 'dave', items: [{ sku: 'SKU-LTD', quantity: 1 }], race: true },
];

async function place(base, order, clock) {
  const body = { userId: order.userId, email: `${order.userId}@example.com`, items: order.items };
  const res = await http(base, 'POST', '/orders', body);
  if (res.status !== 201 || !res.json || !res.json.orderId) {
    throw new Error(`POST /orders for ${order.userId} answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
  order.orderId = res.json.orderId;
  say(
    `${c.dim(seconds(clock()).padStart(8))}  ${c.blue('POST     ')}  ${c.bold('->'.padEnd(4))}  ` +
      `${`placed ${order.label} order`.padEnd(58)}  ${order.orderId}  ` +
      `${order.userId}: ${lines(order.items)}, total ${money(res.json.total, res.json.currency)} (${res.json.status})`,
  );
}

/** Until every order is Confirmed or Cancelled; false on timeout. */
async function waitFinal(base, orders, deadline) {
  while (Date.now() < deadline) {
    const views = await Promise.all(orders.map((o) => getJson(base, `/orders/${o.orderId}`)));
    views.forEach((view, i) => view && (orders[i].view = view));
    if (orders.every((o) => o.view && FINAL.has(o.view.status))) return true;
    await sleep(200);
  }
  return false;
}

/**
 * Until the effects of the outcomes are done too: payments charged for confirmed orders and not
 * left charged for cancelled ones (refunded), one mail per order, each payment event in the
 * loyalty ledger, every outcome counted by analytics, and no new event for QUIET_MS.
 * Returns what is still missing ([] when settled).
 */
async function waitSettled(base, orders, tail, deadline) {
  let missing = ['nothing checked yet'];
  while (Date.now() < deadline) {
    missing = [];
    const [payments, mails, summary, ...accounts] = await Promise.all([
      Promise.all(orders.map((o) => getJson(base, `/payments/${o.orderId}`))),
      getJson(base, '/emails?limit=500'),
      getJson(base, '/analytics/summary'),
      ...orders.map((o) => getJson(base, `/loyalty/${encodeURIComponent(o.userId)}`)),
    ]);
    orders.forEach((o, i) => {
      o.payment = payments[i];
      o.account = accounts[i];
      const status = payments[i] && payments[i].status;
      if (o.view.status === 'Confirmed' && status !== 'charged')
        missing.push(`payment of ${o.orderId} is ${status || 'unknown'}`);
      if (o.view.status === 'Cancelled' && ['charged', 'pending', 'refunding'].includes(status)) {
        missing.push(`payment of cancelled ${o.orderId} is still ${status} (refund pending)`);
      }
      const paymentEvents = tail.events.filter(
        (e) => e.subject === o.orderId && (e.type === 'PaymentSucceeded' || e.type === 'PaymentRefunded'),
      ).length;
      const ledger = o.account ? o.account.history.filter((h) => h.orderId === o.orderId).length : 0;
      if (ledger < paymentEvents) missing.push(`loyalty has ${ledger} of ${paymentEvents} entries for ${o.orderId}`);
    });
    const ours = new Set(orders.map((o) => o.orderId));
    const sent = (mails || []).filter((m) => ours.has(m.orderId));
    if (sent.length < orders.length) missing.push(`${sent.length} of ${orders.length} mails sent`);
    const counted = summary ? summary.ordersConfirmed + summary.ordersCancelled.total : 0;
    if (counted < orders.length) missing.push(`analytics counted ${counted} of ${orders.length} outcomes`);
    if (Date.now() - tail.lastEventAt < QUIET_MS) missing.push('events still arriving');
    if (missing.length === 0) return { missing, mails: sent, summary };
    await sleep(200);
  }
  return { missing };
}

function printResults(orders, stock, mails, summary) {
  heading('Orders (GET /orders/:id, GET /payments/:orderId)');
  for (const o of orders) {
    const v = o.view || {};
    const status =
      v.status === 'Confirmed'
        ? c.green(v.status)
        : v.status === 'Cancelled'
          ? c.red(v.status)
          : c.yellow(v.status || '?');
    const why = v.cancellation
      ? `${v.cancellation.reason}: ${v.cancellation.detail}`
      : v.paymentId
        ? `paid ${v.paymentId}`
        : '';
    const pay = o.payment ? `payment ${o.payment.status}` : 'no payment';
    say(
      `  ${o.label.padEnd(11)} ${o.orderId}  ${o.userId.padEnd(13)} ${status}${' '.repeat(Math.max(1, 10 - String(v.status || '?').length))}` +
        `${money(v.total ?? 0, v.currency).padStart(11)}  ${pay.padEnd(17)} ${c.dim(why)}`,
    );
  }

  heading('Stock of SKU-LTD (GET /inventory/SKU-LTD)');
  say(stock ? `  ${stock.name}: available ${stock.available}, reserved ${stock.reserved}` : '  (unknown)');

  heading(`Emails sent (GET /emails): ${mails.length}`);
  for (const m of [...mails].sort((a, b) => String(a.sentAt).localeCompare(String(b.sentAt)))) {
    say(`  to ${m.to.padEnd(26)} ${m.subject}`);
  }

  heading('Loyalty points (GET /loyalty/:userId)');
  for (const o of orders) {
    const a = o.account;
    if (!a) {
      say(`  ${o.userId.padEnd(13)} (unknown)`);
      continue;
    }
    const history = a.history.map((h) => `${h.points > 0 ? '+' : ''}${h.points} ${h.reason}`).join(', ');
    say(
      `  ${o.userId.padEnd(13)} ${String(a.points).padStart(4)} points  ${c.dim(history ? `(${history})` : '(no payments)')}`,
    );
  }

  heading('Analytics (GET /analytics/summary)');
  if (!summary) {
    say('  (unavailable)');
    return;
  }
  const reasons = Object.entries(summary.ordersCancelled.byReason || {})
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  say(
    `  placed ${summary.ordersPlaced}, confirmed ${summary.ordersConfirmed}, cancelled ${summary.ordersCancelled.total}${reasons ? ` (${reasons})` : ''}`,
  );
  say(`  revenue ${money(summary.revenue, summary.currency)}`);
  say(`  top SKUs: ${(summary.topSkus || []).map((s) => `${s.quantity}×${s.sku}`).join(', ') || '-'}`);
}

/** What the scenario must show; each line is [ok, text]. */
function checks(orders, stock, mails, summary) {
  const [normal, declined, ...race] = orders;
  const status = (o) => o.view && o.view.status;
  const winner = race.find((o) => status(o) === 'Confirmed');
  const loser = race.find((o) => status(o) === 'Cancelled');
  const result = [
    [status(normal) === 'Confirmed', `the normal order is Confirmed (${status(normal)})`],
    [
      status(declined) === 'Cancelled' &&
        declined.view.cancellation &&
        declined.view.cancellation.reason === 'payment-declined',
      `the declined-... user's order is Cancelled, payment-declined (${status(declined)}${declined.view && declined.view.cancellation ? `, ${declined.view.cancellation.reason}` : ''})`,
    ],
    [
      Boolean(winner && loser && winner !== loser),
      `of the two SKU-LTD orders one is Confirmed and one Cancelled (${race.map(status).join(', ')})`,
    ],
  ];
  if (loser) {
    result.push([
      loser.view.cancellation && loser.view.cancellation.reason === 'out-of-stock',
      `the losing SKU-LTD order was cancelled out-of-stock`,
    ]);
    result.push([
      loser.payment && loser.payment.status === 'refunded',
      `its payment was refunded (${loser.payment ? loser.payment.status : 'none'})`,
    ]);
    result.push([
      loser.account && loser.account.points === 0,
      `its user's loyalty points went back to 0 (${loser.account ? loser.account.points : '?'})`,
    ]);
  }
  result.push([Boolean(stock) && stock.available === 0 && stock.reserved === 1, `SKU-LTD: 0 available, 1 reserved`]);
  result.push([mails.length === orders.length, `one mail per order (${mails.length})`]);
  result.push([
    Boolean(summary) &&
      summary.ordersPlaced === 4 &&
      summary.ordersConfirmed === 2 &&
      summary.ordersCancelled.total === 2,
    `analytics: 4 placed, 2 confirmed, 2 cancelled`,
  ]);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const state = { exiting: false };
  let exitCode = 1;

  const cleanup = async () => {
    state.quiet = true;
    if (state.tail) await state.tail.stop().catch(() => {});
    if (state.client) state.client.disconnect();
    if (alive(state.platform)) {
      await stopPlatform(state);
      note(alive(state.platform) ? 'the platform may still be running' : 'stopped the platform');
    }
    if (state.redisAnswered && !state.redis && state.ns) {
      if (options.keep) {
        note(`kept the demo's keys: namespace ${state.ns} in ${redact(state.redisUrl)}`);
        note(`  browse them: REDIS_URL=${redact(state.redisUrl)} EVENT_BUS_NAMESPACE=${state.ns} npm start`);
      } else {
        try {
          const removed = await deleteNamespace(state.redisUrl, state.ns);
          note(`deleted the demo's ${removed} keys (${state.ns}:*) from ${redact(state.redisUrl)} (--keep keeps them)`);
        } catch (error) {
          fail(`could not delete the demo's keys (${state.ns}:*): ${error.message}`);
        }
      }
    }
    if (state.redis) {
      await stopRedis(state);
      note(`stopped the throwaway redis-server (pid ${state.redis.pid})`);
    }
    if (state.log) await new Promise((resolve) => state.log.end(resolve));
  };

  const finish = async (code) => {
    if (state.exiting) return;
    state.exiting = true;
    exitCode = code;
    await cleanup();
    process.exit(exitCode);
  };

  // Ctrl-C: stop everything we started. `npm run` passes the terminal's SIGINT on again: one Ctrl-C can arrive twice.
  let lastSignalAt = 0;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (Date.now() - lastSignalAt < 1000) return;
      lastSignalAt = Date.now();
      if (state.exiting) return;
      say('');
      fail(`${signal}: stopping the platform`);
      void finish(signal === 'SIGINT' ? 130 : 143);
    });
  }
  process.on('exit', () => {
    for (const child of [state.platform, state.redis]) if (alive(child)) child.kill('SIGTERM');
  });

  try {
    // Redis
    const requested = process.env.REDIS_URL || DEFAULT_URL;
    let redisUrl = requested;
    if (await answers(requested)) {
      state.redisAnswered = true;
      note(`Redis answers at ${redact(requested)}: the demo uses it under a namespace of its own`);
    } else if (isLocal(requested) && !spawnSync('redis-server', ['--version']).error) {
      redisUrl = await startThrowawayRedis(state);
      state.redisAnswered = true;
      note(
        `no Redis at ${redact(requested)}: started a throwaway redis-server at ${redisUrl} (pid ${state.redis.pid}, no persistence)`,
      );
    } else {
      note(
        `no Redis at ${redact(requested)}, and the demo cannot start one there: scripts/start.js will say how to get one`,
      );
    }
    state.redisUrl = redisUrl;

    // Platform
    const port = await freePort();
    const ns = `demo-${Date.now()}`;
    state.ns = ns;
    const base = `http://127.0.0.1:${port}`;
    note(
      `starting the platform: node scripts/start.js with PORT=${port} EVENT_BUS_NAMESPACE=${ns} (log: ${path.relative(process.cwd(), LOG_FILE)})`,
    );
    const env = { ...process.env, REDIS_URL: redisUrl, PORT: String(port), EVENT_BUS_NAMESPACE: ns };
    startPlatform(state, env);
    try {
      await waitListening(state, base);
    } catch (error) {
      fail(error.message);
      const unseen = tailOfLog(25).filter((line) => !line.startsWith('[start]')); // start.js's own lines were shown already
      if (unseen.length) {
        fail(`last lines of ${path.relative(process.cwd(), LOG_FILE)}:`);
        for (const line of unseen) fail(`  ${line}`);
      }
      return finish(1);
    }
    note(`the platform listens at ${base} (Swagger at ${base}/docs)`);

    // Tail, from the streams' positions before the first order
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    client.on('error', () => {});
    state.client = client;
    const [sec, micro] = await client.time();
    const t0 = Number(sec) * 1000 + Math.floor(Number(micro) / 1000);
    const skew = t0 - Date.now(); // Redis clock minus ours: offsets of our own lines on the entries' clock
    const clock = () => Date.now() + skew - t0;
    const tail = new EventTail(redisUrl, ns, t0);
    await tail.positions(client);
    state.tail = tail;
    tail.start();

    heading(`Events on ${STREAMS.map((s) => `${ns}:{${s}}`).join(', ')} (└ #n: caused by event #n)`);
    say(
      c.dim(
        `${'time'.padStart(8)}  ${'stream'.padEnd(9)}  ${'#'.padEnd(4)}  ${'source -> type'.padEnd(58)}  ${'subject'.padEnd(19)}  summary`,
      ),
    );

    const orders = SCENARIO.map((o) => ({ ...o }));
    await place(base, orders[0], clock);
    await place(base, orders[1], clock);
    await Promise.all(orders.filter((o) => o.race).map((o) => place(base, o, clock))); // at once: they compete for the one SKU-LTD

    const deadline = Date.now() + options.timeoutMs;
    const final = await waitFinal(base, orders, deadline);
    let settled = { missing: [] };
    if (final) settled = await waitSettled(base, orders, tail, deadline);
    await tail.stop();
    state.tail = undefined;

    if (!final) {
      say('');
      for (const o of orders) {
        const status = o.view ? o.view.status : 'unknown';
        if (!FINAL.has(status))
          fail(`order ${o.orderId} (${o.label}) is still ${status} after ${options.timeoutMs / 1000} s`);
      }
      fail(
        `not every order reached Confirmed/Cancelled within ${options.timeoutMs / 1000} s (--timeout to wait longer); platform log: ${path.relative(process.cwd(), LOG_FILE)}`,
      );
      return finish(1);
    }

    const stock = await getJson(base, '/inventory/SKU-LTD');
    const mails =
      settled.mails ||
      ((await getJson(base, '/emails?limit=500')) || []).filter((m) => orders.some((o) => o.orderId === m.orderId));
    const summary = settled.summary || (await getJson(base, '/analytics/summary'));
    printResults(orders, stock, mails, summary);

    heading('Checks');
    const results = checks(orders, stock, mails, summary);
    for (const [ok, text] of results) say(`  ${ok ? c.green('✓') : c.red('✗')} ${text}`);
    say('');

    if (settled.missing.length) {
      fail(
        `every order is final, but their effects did not settle within ${options.timeoutMs / 1000} s: ${settled.missing.join('; ')}`,
      );
      return finish(1);
    }
    if (results.some(([ok]) => !ok)) {
      fail('every order is final, but not with the outcomes the scenario expects (see the ✗ above)');
      return finish(1);
    }
    const last = Math.max(...tail.events.map((e) => entryMs(e.entryId))) - t0;
    say(
      c.green(
        `All ${orders.length} orders reached a final state and their effects settled: ${tail.events.length} events, the last at ${seconds(last)}.`,
      ),
    );
    return finish(0);
  } catch (error) {
    fail(error && error.stack ? error.stack : String(error));
    return finish(1);
  }
}

main();
