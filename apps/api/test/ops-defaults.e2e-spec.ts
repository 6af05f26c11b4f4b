import request from 'supertest';
import { validateEnvironment } from '@app/platform';
import { OpsApiKeys } from '../src/ops/auth/ops-api-keys';
import { createOpsTestApp, OpsTestApp } from './support/ops-app';
import { expectOpsError } from './support/ops-client';

/** /ops with API_KEYS unset (a generated development key) and a low OPS_RATE_LIMIT. */
describe('operations API defaults', () => {
  let platform: OpsTestApp;
  /** A second instance of the platform on the same Redis and namespace. */
  let other: OpsTestApp;
  let logged = '';
  let developmentKey: string;

  beforeAll(async () => {
    const write = process.stdout.write.bind(process.stdout);
    const spy = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
        logged += String(chunk);
        return write(chunk, ...(rest as [])) as boolean;
      });
    try {
      platform = await createOpsTestApp({ env: { API_KEYS: undefined, OPS_RATE_LIMIT: '5', LOG_LEVEL: 'warn' } });
    } finally {
      spy.mockRestore();
    }
    developmentKey = platform.app.get(OpsApiKeys).developmentKey!;
    other = await createOpsTestApp({ namespace: platform.namespace });
  });

  afterAll(async () => {
    await other?.app.close();
    await platform?.app.close();
  });

  it('generates a development operator key when API_KEYS is unset and logs it once, with how to configure keys', async () => {
    expect(developmentKey).toMatch(/^dev-[0-9a-f]{48}$/);
    expect(logged.split(developmentKey).length - 1).toBe(1);
    expect(logged).toContain('API_KEYS=reader:<key>,operator:<key>');
  });

  it('keeps /ops closed to anonymous callers and open to the development key, as operator', async () => {
    expectOpsError((await request(platform.url).get('/ops/streams').expect(401)).body, 401);
    await request(platform.url).get('/ops/streams').set('x-api-key', developmentKey).expect(200);
    await request(platform.url)
      .put('/ops/streams/orders/retention')
      .set('x-api-key', developmentKey)
      .send({})
      .expect(200);
  });

  it('rate limits /ops per key with 429 in the error shape, and guessing keys per address across instances; not the shop', async () => {
    // 2 requests with the key so far: 3 more are allowed this minute.
    for (let i = 0; i < 3; i++)
      await request(platform.url).get('/ops/streams').set('x-api-key', developmentKey).expect(200);
    const limited = await request(platform.url).get('/ops/streams').set('x-api-key', developmentKey).expect(429);
    expectOpsError(limited.body, 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // 1 anonymous request so far, counted by address; unknown keys count there too, on every
    // instance: the budget lives in Redis (with a count per process, the other instance would
    // still answer 401 to the last guess).
    for (let i = 0; i < 4; i++)
      await request(i % 2 ? other.url : platform.url)
        .get('/ops/streams')
        .set('x-api-key', `guess-${i}-0123456789abcdef`)
        .expect(401);
    expectOpsError(
      (await request(other.url).get('/ops/streams').set('x-api-key', 'guess-5-0123456789abcdef').expect(429)).body,
      429,
    );
    for (let i = 0; i < 10; i++) await request(platform.url).get('/inventory').expect(200);
  });

  it('refuses to start with a malformed API_KEYS, naming it without echoing the keys', () => {
    for (const bad of [
      'admin:0123456789abcdef',
      'reader:short',
      'reader:0123456789abcdef,',
      'reader:0123456789abcdef,operator:0123456789abcdef',
      'reader:has space in it 0123',
    ]) {
      let message = '';
      try {
        validateEnvironment({ API_KEYS: bad });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('API_KEYS=(hidden)');
      expect(message).not.toContain('0123456789abcdef');
    }
    expect(
      validateEnvironment({ API_KEYS: 'reader:0123456789abcdef,operator:fedcba9876543210,operator:another-key-12345' })
        .API_KEYS,
    ).toBeDefined();
    expect(() => validateEnvironment({ OPS_RATE_LIMIT: '0' })).toThrow(/OPS_RATE_LIMIT/);
    expect(() => validateEnvironment({ HTTP_BODY_LIMIT: 'lots' })).toThrow(/HTTP_BODY_LIMIT/);
  });
});
