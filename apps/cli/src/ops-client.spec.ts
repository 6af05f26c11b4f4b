import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { normalizeBaseUrl, OpsClient, OpsConnectionError, OpsHttpError, retryAfter, UsageError } from './ops-client';

describe('normalizeBaseUrl and url()', () => {
  it('drops trailing slashes and leaves out empty query values', () => {
    expect(normalizeBaseUrl('http://127.0.0.1:3000/')).toBe('http://127.0.0.1:3000');
    expect(normalizeBaseUrl('https://ops.example.com/platform/')).toBe('https://ops.example.com/platform');
    const client = new OpsClient({ baseUrl: 'http://h:1/' });
    expect(client.url('/ops/x', { a: 1, b: undefined, c: '', d: 'x y', e: false })).toBe(
      'http://h:1/ops/x?a=1&d=x+y&e=false',
    );
  });

  it('refuses what is not an http(s) URL', () => {
    expect(() => normalizeBaseUrl('localhost:3000')).toThrow(UsageError);
    expect(() => normalizeBaseUrl('nope')).toThrow('--url "nope" is not a URL');
  });
});

describe('retryAfter', () => {
  it('seconds or an HTTP date', () => {
    expect(retryAfter('7')).toBe(7000);
    expect(retryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfter(null)).toBeUndefined();
    expect(retryAfter('soon')).toBeUndefined();
  });
});

describe('OpsClient against a local HTTP server', () => {
  let server: Server;
  let base: string;
  const seen: { method?: string; url?: string; key?: string | string[]; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, key: req.headers['x-api-key'], body });
        if (req.url === '/json-error') {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
          return res.end(JSON.stringify({ statusCode: 429, error: 'Too Many Requests', message: 'slow down' }));
        }
        if (req.url === '/html-error') {
          res.writeHead(502, { 'content-type': 'text/html' });
          return res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
        }
        if (req.url === '/slow') return setTimeout(() => res.end('{}'), 500);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('sends the key and a JSON body', async () => {
    const client = new OpsClient({ baseUrl: base, apiKey: 'k-123' });
    await expect(client.post('/ops/events', { type: 'T' })).resolves.toEqual({ ok: true });
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/ops/events', key: 'k-123', body: '{"type":"T"}' });
    await new OpsClient({ baseUrl: base }).get('/x');
    expect(seen.at(-1)!.key).toBeUndefined();
  });

  it('maps error bodies, JSON or not', async () => {
    const client = new OpsClient({ baseUrl: base });
    const json = await client.get('/json-error').catch((e: unknown) => e);
    expect(json).toBeInstanceOf(OpsHttpError);
    expect(json).toMatchObject({
      status: 429,
      retryAfterMs: 3000,
      body: { statusCode: 429, error: 'Too Many Requests', message: 'slow down' },
    });
    const html = await client.get('/html-error').catch((e: unknown) => e);
    expect(html).toMatchObject({
      status: 502,
      body: { statusCode: 502, error: 'Bad Gateway', message: '502 Bad Gateway' },
    });
  });

  it('a timeout and a refused connection are connection errors', async () => {
    const slow = await new OpsClient({ baseUrl: base, timeoutMs: 100 }).get('/slow').catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(OpsConnectionError);
    expect((slow as Error).message).toBe(`no answer from ${base} within 0.1s (GET /slow)`);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    const refused = await new OpsClient({ baseUrl: url }).get('/ops/streams').catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'ECONNREFUSED',
      message: `cannot connect to ${url} (connection refused): is the platform running at ${url}?`,
    });
  });

  it('an abort asked for by the caller is passed through, not called a network failure', async () => {
    const controller = new AbortController();
    const pending = new OpsClient({ baseUrl: base })
      .get('/slow', undefined, controller.signal)
      .catch((e: unknown) => e);
    controller.abort();
    const error = await pending;
    expect(error).not.toBeInstanceOf(OpsConnectionError);
    expect((error as Error).name).toBe('AbortError');
  });
});
