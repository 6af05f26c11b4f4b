/**
 * A small stand-in for the platform's operations API (node:http), implementing the shapes the CLI
 * relies on with realistic data, checking `x-api-key`, and recording every request.
 */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const OPERATOR_KEY = 'op-4f1c2a9be07d44a1a5c3';
export const READER_KEY = 'rd-9a8b7c6d5e4f3a2b1c0d';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  apiKey?: string;
}

export interface FakeEntry {
  id: string;
  time: string;
  type: string;
  version: number;
  source: string;
  subject: string | null;
  eventId: string;
  correlationId: string | null;
  causationId: string | null;
  data: unknown;
}

interface ReplayBody {
  stream?: string;
  target?: { kind?: string; group?: string };
  dryRun?: boolean;
  ratePerSec?: number;
  bypassDedupe?: boolean;
}

interface PublishBody {
  type?: string;
  version?: number;
  data?: Record<string, unknown>;
  subject?: string;
}

interface FilterBody {
  ids?: string[];
  group?: string;
  reason?: string;
  type?: string;
  all?: boolean;
}

interface FakeReplay {
  id: string;
  body: ReplayBody;
  createdAt: number;
  total: number;
  rate: number;
  state: 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';
  done: number;
  cancelRequested: boolean;
  error?: string;
}

const T0 = Date.parse('2025-01-06T09:00:00.000Z');
const STREAM_OF: Record<string, string> = {
  OrderPlaced: 'orders',
  OrderConfirmed: 'orders',
  OrderCancelled: 'orders',
  PaymentSucceeded: 'payments',
  PaymentFailed: 'payments',
  InventoryReserved: 'inventory',
};
const PAYMENT_FAILED_FIELDS = ['orderId', 'userId', 'userEmail', 'amount', 'currency', 'reason', 'failedAt'];

export class FakeOpsServer {
  readonly requests: RecordedRequest[] = [];
  readonly entries: Record<string, FakeEntry[]> = { orders: [], payments: [], inventory: [] };
  readonly replays = new Map<string, FakeReplay>();
  deadLetters = seedDeadLetters();
  url = '';
  private readonly server: Server;
  private seq = 0;

  private constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) =>
        send(res, 500, { statusCode: 500, error: 'Internal Server Error', message: String(error) }),
      );
    });
    this.append(
      'orders',
      'OrderPlaced',
      'ORD-7701',
      { orderId: 'ORD-7701', userId: 'u-ada', total: 25, currency: 'EUR' },
      T0,
    );
    this.append(
      'orders',
      'OrderConfirmed',
      'ORD-7701',
      { orderId: 'ORD-7701', confirmedAt: '2025-01-06T09:00:01.000Z' },
      T0 + 1000,
    );
    this.append(
      'orders',
      'OrderPlaced',
      'ORD-7702',
      { orderId: 'ORD-7702', userId: 'u-bob', total: 1200, currency: 'EUR' },
      T0 + 2000,
    );
  }

  static async start(): Promise<FakeOpsServer> {
    const fake = new FakeOpsServer();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Appends an entry the way a publisher would; returns it. */
  append(stream: string, type: string, subject: string | null, data: unknown, at = Date.now()): FakeEntry {
    const last = this.entries[stream].at(-1);
    const lastMs = last ? Number(last.id.split('-')[0]) : 0;
    const ms = Math.max(at, lastMs);
    const seq = last && lastMs === ms ? Number(last.id.split('-')[1]) + 1 : 0;
    const eventId = randomUUID();
    const entry: FakeEntry = {
      id: `${ms}-${seq}`,
      time: new Date(at).toISOString(),
      type,
      version: 1,
      source: stream === 'orders' ? 'order-service' : `${stream}-service`,
      subject,
      eventId,
      correlationId: eventId,
      causationId: null,
      data,
    };
    this.entries[stream].push(entry);
    return entry;
  }

  requestsTo(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const text = await readBody(req);
    const body = text ? JSON.parse(text) : undefined;
    const apiKey = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined;
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body, apiKey });

    if (!apiKey)
      return send(res, 401, {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'send an API key in the x-api-key header',
      });
    if (apiKey !== OPERATOR_KEY && apiKey !== READER_KEY)
      return send(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'unknown API key (x-api-key)' });
    if (apiKey === READER_KEY && req.method !== 'GET') {
      return send(res, 403, {
        statusCode: 403,
        error: 'Forbidden',
        message: `${req.method} needs an operator key; this key has the reader role`,
      });
    }

    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    // NOTE: the stream (and group) segments become ':' so routes can be matched as strings.
    const shape = parts.map((p, i) =>
      parts[1] === 'streams' && (i === 2 || (i === 4 && parts[3] === 'groups')) ? ':' : p,
    );
    const route = `${req.method} /${shape.join('/')}`;
    const stream = parts[1] === 'streams' ? parts[2] : undefined;
    if (stream !== undefined && !(stream in this.entries) && stream !== 'broken') {
      return send(res, 404, {
        statusCode: 404,
        error: 'Not Found',
        message: `unknown stream "${stream}": only streams of registered event contracts are reachable`,
      });
    }

    switch (route) {
      case 'GET /ops/streams':
        return send(res, 200, this.streams());
      case 'GET /ops/streams/:/groups':
        if (stream === 'broken')
          return send(res, 500, {
            statusCode: 500,
            error: 'Internal Server Error',
            message: 'internal error (logged by the server)',
          });
        return send(res, 200, groupsOf(stream!));
      case 'GET /ops/streams/:/groups/:/pending':
        return send(res, 200, pendingOf(parts[4], Number(url.searchParams.get('count') ?? 100)));
      case 'GET /ops/streams/:/entries':
        return send(res, 200, this.page(stream!, url.searchParams));
      case 'GET /ops/streams/:/dead-letters':
        return send(
          res,
          200,
          this.matching(stream!, filterOf(url.searchParams)).slice(0, Number(url.searchParams.get('count') ?? 100)),
        );
      case 'POST /ops/streams/:/dead-letters/redrive':
      case 'POST /ops/streams/:/dead-letters/purge': {
        const filter = (body ?? {}) as FilterBody;
        if (!filter.all && !filter.ids?.length && !filter.group && !filter.reason && !filter.type) {
          return send(res, 400, {
            statusCode: 400,
            error: 'Bad Request',
            message: 'refusing to act on every dead letter: pass { all: true }, or ids, group, reason or type',
          });
        }
        const hit = new Set(this.matching(stream!, filter).map((l) => l.id));
        this.deadLetters = this.deadLetters.filter((l) => !hit.has(l.id));
        return send(res, 200, parts[4] === 'redrive' ? { redriven: hit.size } : { purged: hit.size });
      }
      case 'POST /ops/replays':
        return this.startReplay(res, body as ReplayBody | undefined);
      case 'POST /ops/events':
        return this.publish(res, body as PublishBody | undefined);
    }
    if (parts[0] === 'ops' && parts[1] === 'replays' && parts.length === 3) {
      const replay = this.replays.get(parts[2]);
      if (!replay) return send(res, 404, { statusCode: 404, error: 'Not Found', message: `no replay ${parts[2]}` });
      if (req.method === 'GET') return send(res, 200, this.status(replay));
      if (req.method === 'DELETE') {
        // NOTE: as the platform does: 409 once finished; otherwise 202 with the state as it is (the job stops moments later).
        const before = this.status(replay);
        if (before.state !== 'queued' && before.state !== 'running') {
          return send(res, 409, {
            statusCode: 409,
            error: 'Conflict',
            message: `replay ${replay.id} has finished already (${before.state})`,
          });
        }
        replay.cancelRequested = true;
        return send(res, 202, before);
      }
    }
    return send(res, 404, { statusCode: 404, error: 'Not Found', message: `Cannot ${req.method} ${url.pathname}` });
  }

  private streams() {
    return Object.entries(this.entries).map(([stream, entries]) => ({
      stream,
      length: entries.length,
      firstId: entries[0]?.id ?? null,
      lastId: entries.at(-1)?.id ?? null,
      firstTime: entries[0] ? new Date(Number(entries[0].id.split('-')[0])).toISOString() : null,
      lastTime: entries.at(-1) ? new Date(Number(entries.at(-1)!.id.split('-')[0])).toISOString() : null,
      groups: stream === 'orders' ? 4 : stream === 'payments' ? 2 : 1,
      retention: stream === 'orders' ? { maxLength: 1_000_000, maxAgeMs: 604_800_000 } : null,
      deadLetters: this.deadLetters.filter((l) => l.stream === stream).length,
    }));
  }

  private page(stream: string, q: URLSearchParams) {
    const count = Number(q.get('count') ?? 50);
    const cursor = q.get('cursor');
    const after = (e: FakeEntry) => !cursor || compareIds(e.id, cursor) > 0;
    const hits = this.entries[stream]
      .filter(after)
      .filter(
        (e) => (!q.get('type') || e.type === q.get('type')) && (!q.get('subject') || e.subject === q.get('subject')),
      );
    const entries = hits.slice(0, count);
    return { entries, nextCursor: hits.length > count ? entries.at(-1)!.id : null };
  }

  private matching(stream: string, f: { ids?: string[]; group?: string; reason?: string; type?: string }) {
    return this.deadLetters.filter(
      (l) =>
        l.stream === stream &&
        (!f.ids?.length || f.ids.includes(l.id)) &&
        (!f.group || l.group === f.group) &&
        (!f.reason || l.reason === f.reason) &&
        (!f.type || l.type === f.type),
    );
  }

  private startReplay(res: ServerResponse, body: ReplayBody | undefined): void {
    const details: { field: string; messages: string[] }[] = [];
    if (!body?.stream) details.push({ field: 'stream', messages: ['stream must be a registered stream'] });
    if (!['handlers', 'position', 'new-group'].includes(body?.target?.kind ?? ''))
      details.push({ field: 'target.kind', messages: ['kind must be one of: handlers, position, new-group'] });
    if (typeof body?.target?.group !== 'string')
      details.push({ field: 'target.group', messages: ['group must be a string'] });
    if (details.length)
      return send(res, 400, {
        statusCode: 400,
        error: 'Bad Request',
        message: details.flatMap((d) => d.messages).join('; '),
        details,
      });
    if (!body?.stream || !(body.stream in this.entries))
      return send(res, 404, { statusCode: 404, error: 'Not Found', message: `unknown stream "${body?.stream}"` });
    const id = randomUUID();
    this.replays.set(id, {
      id,
      body,
      createdAt: Date.now(),
      total: 60,
      rate: body.ratePerSec ?? 150,
      state: 'queued',
      done: 0,
      cancelRequested: false,
    });
    send(res, 202, { id, state: 'queued' });
  }

  /** Progress is a function of time since the start: queued for 100 ms, then `rate` per second. */
  private status(r: FakeReplay) {
    if (r.state === 'queued' || r.state === 'running') {
      const elapsed = Date.now() - r.createdAt - 100;
      if (r.cancelRequested) r.state = 'cancelled';
      else if (elapsed >= 0) {
        r.state = 'running';
        if (r.body.dryRun) r.state = 'completed';
        else if (r.body.target?.group === 'ghost') {
          r.state = 'failed';
          r.error = 'no such consumer group "ghost" on orders';
        } else {
          r.done = Math.min(r.total, Math.floor((elapsed / 1000) * r.rate));
          if (r.done === r.total) r.state = 'completed';
        }
      }
    }
    const elapsedSec = (Date.now() - r.createdAt - 100) / 1000;
    const measured = elapsedSec > 0 ? Math.round((r.done / elapsedSec) * 10) / 10 : 0;
    const running = r.state === 'running' || r.state === 'queued';
    return {
      id: r.id,
      state: r.state,
      stream: r.body.stream,
      target: r.body.target,
      dryRun: r.body.dryRun ?? false,
      bypassDedupe: r.body.bypassDedupe ?? false,
      ...(r.body.ratePerSec !== undefined ? { ratePerSecLimit: r.body.ratePerSec } : {}),
      done: r.done,
      total: r.total,
      ratePerSec: measured,
      etaSeconds: !running
        ? 0
        : r.state === 'running' && measured > 0
          ? Math.ceil((r.total - r.done) / measured)
          : null,
      ...(r.error ? { error: r.error } : {}),
    };
  }

  private publish(res: ServerResponse, body: PublishBody | undefined): void {
    const stream = body?.type ? STREAM_OF[body.type] : undefined;
    if (!stream) {
      return send(res, 400, {
        statusCode: 400,
        error: 'Bad Request',
        message: `unknown event type "${body?.type}" version ${body?.version ?? 1}`,
        details: [{ field: 'type', messages: [`no contract for ${body?.type} v${body?.version ?? 1}`] }],
      });
    }
    if (!stream || !body?.type) return;
    if (body.type === 'PaymentFailed') {
      const missing = PAYMENT_FAILED_FIELDS.filter((f) => !(f in (body.data ?? {})));
      if (missing.length) {
        return send(res, 400, {
          statusCode: 400,
          error: 'Bad Request',
          message: `PaymentFailed v1 is invalid: ${missing.join(', ')}`,
          details: missing.map((f) => ({
            field: `data.${f}`,
            messages: [`${f} must be ${f === 'amount' ? 'a number' : 'a string'}`],
          })),
        });
      }
    }
    const entry = this.append(
      stream,
      body.type,
      body.subject ?? (typeof body.data?.orderId === 'string' ? body.data.orderId : null),
      body.data,
    );
    send(res, 201, { id: entry.eventId, entryId: entry.id, stream });
  }
}

function groupsOf(stream: string) {
  if (stream !== 'orders') return [];
  return [
    {
      group: 'analytics',
      lag: 0,
      pending: 0,
      lastDeliveredId: '1736154002000-0',
      consumers: [{ name: 'api-7f9c-1234', idleMs: 812, pending: 0 }],
    },
    {
      group: 'inventory',
      lag: 12,
      pending: 3,
      lastDeliveredId: '1736154001000-0',
      consumers: [
        { name: 'api-7f9c-1234', idleMs: 1520, pending: 2 },
        { name: 'api-b2e1-5678', idleMs: 3_725_000, pending: 1 },
      ],
    },
    { group: 'payment', lag: null, pending: 0, lastDeliveredId: '1736154002000-0', consumers: [] },
  ];
}

function pendingOf(group: string, count: number) {
  if (group !== 'inventory') return [];
  return [
    { id: '1736154000000-0', consumer: 'api-7f9c-1234', idleMs: 45_000, deliveries: 2 },
    { id: '1736154001000-0', consumer: 'api-7f9c-1234', idleMs: 44_100, deliveries: 1 },
    { id: '1736154002000-0', consumer: 'api-b2e1-5678', idleMs: 3_725_000, deliveries: 5 },
  ].slice(0, count);
}

function seedDeadLetters() {
  const letter = (
    id: string,
    reason: string,
    type: string,
    group: string,
    handler: string,
    error: string,
    attempts: number,
  ) => ({
    id,
    reason,
    error,
    stream: 'orders',
    entryId: `${Number(id.split('-')[0]) - 5000}-0`,
    group,
    consumer: 'api-7f9c-1234',
    handler,
    attempts,
    deadLetteredAt: new Date(Number(id.split('-')[0])).toISOString(),
    eventId: randomUUID(),
    type,
    envelope: { specversion: '1.0', type, source: 'order-service', data: '{"orderId":"ORD-7702"}' },
  });
  return [
    letter(
      '1736154100000-0',
      'handler-failed',
      'OrderPlaced',
      'payment',
      'PaymentHandlers.charge',
      'gateway timeout after 3000 ms (POST https://gateway.example/charges)',
      5,
    ),
    letter(
      '1736154200000-0',
      'handler-failed',
      'OrderPlaced',
      'inventory',
      'InventoryHandlers.reserve',
      'sku PRINT-SIGNED: stock hash missing',
      5,
    ),
    letter(
      '1736154300000-0',
      'invalid-payload',
      'OrderConfirmed',
      'email',
      '-',
      'confirmedAt must be a valid ISO 8601 date string',
      1,
    ),
  ];
}

function filterOf(q: URLSearchParams) {
  return { group: q.get('group') ?? undefined, reason: q.get('reason') ?? undefined, type: q.get('type') ?? undefined };
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
