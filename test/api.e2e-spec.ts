import { spawnSync } from 'node:child_process';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { testNamespace, testRedisUrl } from './support/redis';

/** The platform app as `npm start` runs it: real HTTP on a real port, real Redis. */
describe('platform app', () => {
  let app: INestApplication;

  beforeAll(async () => {
    process.env.REDIS_URL = testRedisUrl();
    process.env.EVENT_BUS_NAMESPACE = testNamespace('api');
    process.env.PORT = '0';
    process.env.LOG_LEVEL = 'warn';
    const { createApp } = await import('@app/api');
    app = await createApp();
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
  });

  it('serves Swagger UI at /docs and the OpenAPI document at /docs-json', async () => {
    const server = app.getHttpServer();
    const ui = await request(server).get('/docs').redirects(1);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    const doc = await request(server).get('/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toContain('/events/types');
  });

  it('lists the registered event contracts', async () => {
    const res = await request(app.getHttpServer()).get('/events/types').expect(200);
    expect(res.body).toEqual(expect.arrayContaining([{ type: 'OrderPlaced', version: 1, stream: 'orders' }]));
  });

  it("reports every consumer loop in /health/live, the flow index's raw subscription included", async () => {
    const live = await request(app.getHttpServer()).get('/health/live').expect(200);
    const groups = (live.body.details.consumers.groups as Array<{ group: string; alive: boolean }>).map((g) => g.group);
    expect(groups).toEqual(
      expect.arrayContaining(['order', 'inventory', 'payment', 'email', 'analytics', 'loyalty', 'flow-index']),
    );
    expect(live.body.details.consumers.groups.every((g: { alive: boolean }) => g.alive)).toBe(true);
  });

  it('refuses to start with an invalid environment, naming each bad variable', () => {
    // Tried: a REDIS_URL without scheme and a PORT that is not a number.
    const run = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/api/src/main.ts'],
      { env: { ...process.env, REDIS_URL: 'localhost:6379', PORT: 'eighty' }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Invalid configuration');
    expect(run.stderr).toMatch(/REDIS_URL="localhost:6379": REDIS_URL must look like redis:\/\//);
    expect(run.stderr).toMatch(/PORT=/);
  });
});
