import request from 'supertest';
import { LoyaltyModule } from '@app/loyalty';
import { createTestPlatformApp, TestPlatformApp } from './support/platform-app';
import { RedisServer } from './support/redis-server';

/** /health/live and /health/ready through @nestjs/terminus, with Redis up, then gone, then back. */
describe('health checks', () => {
  let server: RedisServer;
  let platform: TestPlatformApp;

  beforeAll(async () => {
    server = await RedisServer.start();
    platform = await createTestPlatformApp([LoyaltyModule], { env: { REDIS_URL: server.url } });
  });

  afterAll(async () => {
    await platform?.app.close();
    await server?.destroy();
  });

  it('is live and ready while Redis answers and the consumer loops run', async () => {
    const http = request(platform.app.getHttpServer());
    const live = await http.get('/health/live').expect(200);
    expect(live.body.status).toBe('ok');
    expect(live.body.details.consumers.groups).toEqual([expect.objectContaining({ group: 'loyalty', alive: true })]);
    const ready = await http.get('/health/ready').expect(200);
    expect(ready.body.details.redis).toMatchObject({ status: 'up', latencyMs: expect.any(Number) });
  });

  it('is not ready (503, within the timeout) while Redis is gone, and ready again once it is back', async () => {
    // Tried: SIGKILL the redis-server under the app, ask for readiness, start it again.
    await server.kill();
    const began = Date.now();
    const down = await request(platform.app.getHttpServer()).get('/health/ready').expect(503);
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(down.body.details.redis.status).toBe('down');
    await server.boot();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await request(platform.app.getHttpServer()).get('/health/ready')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
  });

  it('is documented in Swagger', async () => {
    const doc = await request(platform.app.getHttpServer()).get('/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
  });
});
