import type Redis from 'ioredis';

/**
 * The shop's books, read back from the running platform (its HTTP API, and the fake payment
 * gateway's own books in Redis), and the invariants that must hold once it settled, whatever was
 * killed while orders were placed. `readShopBooks` gathers, `checkBooks` judges (a pure function,
 * so a self-test can feed it books that break each invariant).
 */

export type OrderStatus = 'Pending' | 'Confirmed' | 'Cancelled';

export interface BookOrder {
  orderId: string;
  status: OrderStatus;
  userId: string;
  total: number;
  items: Array<{ sku: string; quantity: number }>;
  cancellationReason?: string;
}

/** `GET /payments/:orderId` (undefined: 404, the payment service never saw the order). */
export interface BookPayment {
  status: string;
  amount: number;
}

export interface BookMail {
  id: string;
  orderId: string;
  template: string;
  to: string;
}

export interface BookLoyalty {
  points: number;
  history: Array<{ orderId: string; points: number; reason: string }>;
}

export interface ShopBooks {
  /** Every order `GET /orders` lists, with its items from `GET /orders/:id`. */
  orders: BookOrder[];
  /** `total` of `GET /orders`. */
  listedTotal: number;
  /** Stock per sku before the burst (`GET /inventory`). */
  initialStock: Record<string, number>;
  /** Stock per sku now (`GET /inventory`). */
  stock: Record<string, { available: number; reserved: number }>;
  /** Per order id. */
  payments: Record<string, BookPayment | undefined>;
  /** The fake gateway's books: charge results by idempotency key (the order id), refunds by key (`refund:<orderId>`). */
  gateway: {
    charges: Record<string, { ok: boolean; paymentId?: string; reason?: string }>;
    refunds: Record<string, { paymentId: string; amount: number }>;
    counts: Record<string, number>;
  };
  /** Every mail of every shopper (`GET /emails?to=<address>`). */
  mails: BookMail[];
  /** Recipients whose mail list came back full (the list may be cut: the check is then unsure). */
  mailListsFull: string[];
  /** Length of the whole sent log (`GET /emails` does not page: read with a second client), to cross-check `mails`. */
  sentLogLength: number;
  /** `GET /emails/failed`. */
  failedMailJobs: number;
  /** Per shopper, `GET /loyalty/:userId`. */
  loyalty: Record<string, BookLoyalty>;
  /** The shoppers of the burst. */
  users: string[];
  /** What analytics counted (`GET /analytics/summary`): printed, not judged. */
  analytics?: { ordersPlaced: number; ordersConfirmed: number; ordersCancelled: number; revenue: number };
}

/** The invariants, in the order they are printed. */
export const INVARIANTS = [
  'orders: none Pending',
  'orders: every 201 is known',
  'inventory: available + reserved = initial',
  'inventory: reserved = confirmed quantity',
  'payment: confirmed charged once, not refunded',
  'payment: no cancelled order left charged',
  'payment: no charge for an unknown order',
  'email: one confirmation per confirmed order',
  'email: one cancellation per cancelled order',
  'email: no mail for another order',
  'loyalty: points = floor(total) of confirmed',
] as const;

export type Invariant = (typeof INVARIANTS)[number];

export interface BooksVerdict {
  figures: Record<string, number | string>;
  /** Per invariant, what breaks it (empty: it holds). */
  violations: Record<Invariant, string[]>;
}

/** Points a payment earns, as apps/loyalty/src/points.ts computes them: floor of the amount in cents. */
export function pointsFor(amount: number): number {
  return Math.floor(Math.round(amount * 100) / 100);
}

/** Judges the books; `accepted` are the order ids whose POST answered 201. */
export function checkBooks(books: ShopBooks, accepted: Iterable<string>): BooksVerdict {
  const violations = Object.fromEntries(INVARIANTS.map((name) => [name, [] as string[]])) as Record<
    Invariant,
    string[]
  >;
  const byId = new Map(books.orders.map((o) => [o.orderId, o]));
  const confirmed = books.orders.filter((o) => o.status === 'Confirmed');
  const cancelled = books.orders.filter((o) => o.status === 'Cancelled');
  const pending = books.orders.filter((o) => o.status !== 'Confirmed' && o.status !== 'Cancelled');

  // Orders.
  for (const o of pending) violations['orders: none Pending'].push(`${o.orderId} (${o.userId}) is ${o.status}`);
  if (byId.size !== books.orders.length)
    violations['orders: none Pending'].push(`GET /orders listed ${books.orders.length - byId.size} order(s) twice`);
  if (books.listedTotal !== byId.size)
    violations['orders: none Pending'].push(
      `GET /orders says total=${books.listedTotal} but its pages held ${byId.size}`,
    );
  for (const id of accepted)
    if (!byId.has(id))
      violations['orders: every 201 is known'].push(`${id} answered 201 but GET /orders does not list it`);

  // Inventory.
  const confirmedQuantity: Record<string, number> = {};
  for (const o of confirmed)
    for (const { sku, quantity } of o.items) confirmedQuantity[sku] = (confirmedQuantity[sku] ?? 0) + quantity;
  const skus = new Set([
    ...Object.keys(books.initialStock),
    ...Object.keys(books.stock),
    ...Object.keys(confirmedQuantity),
  ]);
  for (const sku of [...skus].sort()) {
    const initial = books.initialStock[sku];
    const now = books.stock[sku];
    if (initial === undefined || now === undefined) {
      violations['inventory: available + reserved = initial'].push(
        `${sku}: initial ${initial ?? 'unknown'}, now ${now ? JSON.stringify(now) : 'unknown'}`,
      );
      continue;
    }
    if (now.available + now.reserved !== initial) {
      violations['inventory: available + reserved = initial'].push(
        `${sku}: available ${now.available} + reserved ${now.reserved} = ${now.available + now.reserved}, initial ${initial}`,
      );
    }
    if (now.reserved !== (confirmedQuantity[sku] ?? 0)) {
      violations['inventory: reserved = confirmed quantity'].push(
        `${sku}: reserved ${now.reserved}, confirmed orders hold ${confirmedQuantity[sku] ?? 0}`,
      );
    }
    if (now.available < 0)
      violations['inventory: available + reserved = initial'].push(`${sku}: available ${now.available} < 0 (oversold)`);
  }

  // Payments: the payment service's record and the gateway's books.
  const charged = (id: string): boolean => books.gateway.charges[id]?.ok === true;
  const refunded = (id: string): boolean => books.gateway.refunds[`refund:${id}`] !== undefined;
  for (const o of confirmed) {
    const p = books.payments[o.orderId];
    const problems: string[] = [];
    if (p?.status !== 'charged') problems.push(`payment record ${p ? p.status : 'missing'}`);
    if (!charged(o.orderId))
      problems.push(`gateway ${books.gateway.charges[o.orderId] ? 'declined it' : 'never charged it'}`);
    if (refunded(o.orderId)) problems.push('gateway refunded it');
    if (p && Math.round(p.amount * 100) !== Math.round(o.total * 100))
      problems.push(`amount ${p.amount} != total ${o.total}`);
    if (problems.length > 0)
      violations['payment: confirmed charged once, not refunded'].push(`${o.orderId}: ${problems.join(', ')}`);
  }
  for (const o of cancelled) {
    const p = books.payments[o.orderId];
    const problems: string[] = [];
    if (p && p.status !== 'declined' && p.status !== 'refunded') problems.push(`payment record ${p.status}`);
    if (charged(o.orderId) && !refunded(o.orderId)) problems.push('gateway charged it and never refunded it');
    if (problems.length > 0)
      violations['payment: no cancelled order left charged'].push(
        `${o.orderId} (${o.cancellationReason ?? '?'}): ${problems.join(', ')}`,
      );
  }
  for (const o of pending) {
    // NOTE: a Pending order is already a violation above; money taken for it is worth naming too.
    if (charged(o.orderId) && !refunded(o.orderId))
      violations['payment: no cancelled order left charged'].push(`${o.orderId} is Pending and charged`);
  }
  for (const key of Object.keys(books.gateway.charges)) {
    if (!byId.has(key))
      violations['payment: no charge for an unknown order'].push(`gateway charge ${key} is no order of the shop`);
  }
  for (const key of Object.keys(books.gateway.refunds)) {
    if (!byId.has(key.replace(/^refund:/, '')))
      violations['payment: no charge for an unknown order'].push(`gateway refund ${key} is no order of the shop`);
  }

  // Email.
  const mailsOf = new Map<string, BookMail[]>();
  for (const m of books.mails) mailsOf.set(m.orderId, [...(mailsOf.get(m.orderId) ?? []), m]);
  const count = (orderId: string, template: string): number =>
    (mailsOf.get(orderId) ?? []).filter((m) => m.template === template).length;
  for (const o of books.orders) {
    const confirmations = count(o.orderId, 'order-confirmed');
    const cancellations = count(o.orderId, 'order-cancelled');
    const wantConfirmations = o.status === 'Confirmed' ? 1 : 0;
    const wantCancellations = o.status === 'Cancelled' ? 1 : 0;
    if (confirmations !== wantConfirmations) {
      violations['email: one confirmation per confirmed order'].push(
        `${o.orderId} (${o.status}): ${confirmations} confirmation mail(s)`,
      );
    }
    if (cancellations !== wantCancellations) {
      violations['email: one cancellation per cancelled order'].push(
        `${o.orderId} (${o.status}): ${cancellations} cancellation mail(s)`,
      );
    }
  }
  for (const m of books.mails) {
    const o = byId.get(m.orderId);
    if (!o)
      violations['email: no mail for another order'].push(`mail ${m.id} is about ${m.orderId}, no order of the shop`);
    else if (m.to !== `${o.userId}@example.com`.toLowerCase())
      violations['email: no mail for another order'].push(`mail ${m.id} went to ${m.to}, the order is ${o.userId}'s`);
  }
  for (const to of books.mailListsFull)
    violations['email: no mail for another order'].push(
      `the mail list of ${to} came back full: mails may be missing from the check`,
    );
  if (books.sentLogLength !== books.mails.length) {
    violations['email: no mail for another order'].push(
      `the sent log holds ${books.sentLogLength} mail(s), the shoppers' lists ${books.mails.length}`,
    );
  }

  // Loyalty: the balance and, per order, what it earned net.
  for (const user of books.users) {
    const account = books.loyalty[user];
    const mine = confirmed.filter((o) => o.userId === user);
    const expected = mine.reduce((sum, o) => sum + pointsFor(o.total), 0);
    if (!account) {
      violations['loyalty: points = floor(total) of confirmed'].push(`${user}: no account read`);
      continue;
    }
    if (account.points !== expected)
      violations['loyalty: points = floor(total) of confirmed'].push(
        `${user}: ${account.points} points, confirmed orders earn ${expected}`,
      );
    const net = new Map<string, number>();
    for (const e of account.history) net.set(e.orderId, (net.get(e.orderId) ?? 0) + e.points);
    for (const [orderId, points] of net) {
      const o = byId.get(orderId);
      const want = o?.status === 'Confirmed' ? pointsFor(o.total) : 0;
      if (points !== want)
        violations['loyalty: points = floor(total) of confirmed'].push(
          `${user}: order ${orderId} (${o?.status ?? 'unknown'}) earned ${points} net, should ${want}`,
        );
    }
  }

  const gatewayCharged = Object.values(books.gateway.charges).filter((c) => c.ok).length;
  const figures: Record<string, number | string> = {
    'orders known (GET /orders)': books.orders.length,
    confirmed: confirmed.length,
    cancelled: cancelled.length,
    'cancelled out-of-stock': cancelled.filter((o) => o.cancellationReason === 'out-of-stock').length,
    'cancelled payment-declined': cancelled.filter((o) => o.cancellationReason === 'payment-declined').length,
    pending: pending.length,
    'gateway charges (ok)': gatewayCharged,
    'gateway declines': Object.keys(books.gateway.charges).length - gatewayCharged,
    'gateway refunds': Object.keys(books.gateway.refunds).length,
    'gateway charge calls (repeats included)': books.gateway.counts.chargeCalls ?? 0,
    'payment records refunded': Object.values(books.payments).filter((p) => p?.status === 'refunded').length,
    'mails confirmed': books.mails.filter((m) => m.template === 'order-confirmed').length,
    'mails cancelled': books.mails.filter((m) => m.template === 'order-cancelled').length,
    'failed mail jobs': books.failedMailJobs,
    'loyalty points (all shoppers)': Object.values(books.loyalty).reduce((s, a) => s + a.points, 0),
    'units reserved': Object.values(books.stock).reduce((s, l) => s + l.reserved, 0),
  };
  if (books.analytics) {
    figures['analytics placed/confirmed/cancelled'] =
      `${books.analytics.ordersPlaced}/${books.analytics.ordersConfirmed}/${books.analytics.ordersCancelled}`;
  }
  return { figures, violations };
}

/** Fixed-width text table: one row per [label, value]. */
export function table(title: string, rows: Array<[string, string | number]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return [title, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n');
}

/** A small HTTP client for the shop's API with a per-request timeout. */
export class ShopClient {
  constructor(readonly baseUrl: string) {}

  async get<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async getOk<T>(path: string): Promise<T> {
    const { status, body } = await this.get<T>(path);
    if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${JSON.stringify(body)}`);
    return body;
  }

  async stock(): Promise<Record<string, { available: number; reserved: number }>> {
    const levels = await this.getOk<Array<{ sku: string; available: number; reserved: number }>>('/inventory');
    return Object.fromEntries(levels.map(({ sku, available, reserved }) => [sku, { available, reserved }]));
  }
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    }),
  );
  return results;
}

/**
 * Reads the books: orders (`GET /orders`, paged by 100, then `GET /orders/:id` for the items),
 * inventory, payments (`GET /payments/:id`), mails (`GET /emails?to=`, per shopper, and
 * `/emails/failed`), loyalty (`GET /loyalty/:user`), analytics; and with `redis` (a second client)
 * the fake gateway's books and the sent log's length, which no route exposes.
 */
export async function readShopBooks(
  shop: ShopClient,
  redis: Redis,
  namespace: string,
  users: readonly string[],
  initialStock: Record<string, number>,
): Promise<ShopBooks> {
  const summaries: Array<{
    orderId: string;
    status: OrderStatus;
    userId: string;
    total: number;
    cancellationReason?: string;
  }> = [];
  let listedTotal = 0;
  for (let offset = 0; ; offset += 100) {
    const page = await shop.getOk<{ orders: typeof summaries; total: number }>(`/orders?limit=100&offset=${offset}`);
    listedTotal = page.total;
    summaries.push(...page.orders);
    if (page.orders.length === 0 || offset + 100 >= page.total) break;
  }
  const orders = await mapLimit(summaries, 16, async (s): Promise<BookOrder> => {
    const view = await shop.getOk<{ status: OrderStatus; items: Array<{ sku: string; quantity: number }> }>(
      `/orders/${encodeURIComponent(s.orderId)}`,
    );
    // NOTE: the status from the list and from the order itself must agree once settled; the order's own wins.
    return { ...s, status: view.status, items: view.items.map(({ sku, quantity }) => ({ sku, quantity })) };
  });
  const paymentList = await mapLimit(orders, 16, async (o) => {
    const { status, body } = await shop.get<{ status: string; amount: number }>(
      `/payments/${encodeURIComponent(o.orderId)}`,
    );
    if (status === 404) return undefined;
    if (status !== 200) throw new Error(`GET /payments/${o.orderId} answered ${status}: ${JSON.stringify(body)}`);
    return { status: body.status, amount: body.amount };
  });
  const payments = Object.fromEntries(orders.map((o, i) => [o.orderId, paymentList[i]]));

  const mailLimit = 500;
  const mailLists = await mapLimit(users, 8, async (user) => {
    const to = `${user}@example.com`.toLowerCase();
    const list = await shop.getOk<Array<{ id: string; orderId: string; template: string; to: string }>>(
      `/emails?limit=${mailLimit}&to=${encodeURIComponent(to)}`,
    );
    return { to, list };
  });
  const mails = mailLists.flatMap(({ list }) =>
    list.map(({ id, orderId, template, to }) => ({ id, orderId, template, to: to.toLowerCase() })),
  );
  const mailListsFull = mailLists.filter(({ list }) => list.length >= mailLimit).map(({ to }) => to);
  const failedMailJobs = (await shop.getOk<unknown[]>('/emails/failed?limit=500')).length;

  const loyaltyList = await mapLimit(users, 8, (user) =>
    shop.getOk<BookLoyalty>(`/loyalty/${encodeURIComponent(user)}`),
  );
  const loyalty = Object.fromEntries(
    users.map((user, i) => [user, { points: loyaltyList[i].points, history: loyaltyList[i].history }]),
  );

  const summary = await shop.getOk<{
    ordersPlaced: number;
    ordersConfirmed: number;
    ordersCancelled: { total: number };
    revenue: number;
  }>('/analytics/summary');

  // NOTE: key layout of apps/payment/src/gateway/fake-payment.gateway.ts and apps/email/src/mail/sent-mail.log.ts under ServiceStore's `<ns>:svc:<service>:`.
  const paymentKey = (...parts: string[]): string => `${namespace}:svc:payment:${parts.join(':')}`;
  const [rawCharges, rawRefunds, rawCounts, sentLogLength] = await Promise.all([
    redis.hgetall(paymentKey('gateway', 'charges')),
    redis.hgetall(paymentKey('gateway', 'refunds')),
    redis.hgetall(paymentKey('gateway', 'counts')),
    redis.llen(`${namespace}:svc:email:mails`),
  ]);
  const parse = <T>(raw: Record<string, string>): Record<string, T> =>
    Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as T]));

  return {
    orders,
    listedTotal,
    initialStock,
    stock: await shop.stock(),
    payments,
    gateway: {
      charges: parse(rawCharges),
      refunds: parse(rawRefunds),
      counts: Object.fromEntries(Object.entries(rawCounts).map(([k, v]) => [k, Number(v)])),
    },
    mails,
    mailListsFull,
    sentLogLength,
    failedMailJobs,
    loyalty,
    users: [...users],
    analytics: {
      ordersPlaced: summary.ordersPlaced,
      ordersConfirmed: summary.ordersConfirmed,
      ordersCancelled: summary.ordersCancelled.total,
      revenue: summary.revenue,
    },
  };
}
