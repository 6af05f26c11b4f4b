import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import Redis from 'ioredis';
import { EventBusModule, EventPublisher, PublishFailedError } from '@nest-streams/event-bus';
import { EventBusCore } from '@nest-streams/event-bus/event-bus.core';
import { ParcelShipped } from './fixtures/fixture-events';
import { RedisServer } from '../../../test/support/redis-server';
import { CuttingProxy } from '../../../test/support/cutting-proxy';

const STREAM_KEY = 'once:{parcels}';

/**
 * A publish is written at most once, even when its connection drops between Redis running the
 * XADD and the reply reaching the client (where ioredis, left to itself, sends it again). Real
 * redis-server behind a TCP proxy that drops replies or requests and then cuts the connection.
 */
describe('publish: a dropped connection never writes an event twice', () => {
  let server: RedisServer;
  let proxy: CuttingProxy;
  let direct: Redis;
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await CuttingProxy.start(server.port);
    direct = new Redis(server.url);
  });

  afterEach(async () => {
    proxy.mode = 'pass';
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await direct.del(STREAM_KEY);
  });

  afterAll(async () => {
    direct?.disconnect();
    await proxy?.close();
    await server?.stop();
  });

  async function start(publishTimeoutMs = 5_000): Promise<{ publisher: EventPublisher; core: EventBusCore }> {
    @Module({
      imports: [EventBusModule.forRoot({ redis: proxy.url, namespace: 'once', consume: false, publishTimeoutMs })],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    apps.push(app);
    const publisher = app.get(EventPublisher);
    // NOTE: one publish first, so the publishing connection is up before the proxy misbehaves.
    await publisher.publish(new ParcelShipped({ parcelId: 'warm-up' }));
    return { publisher, core: app.get(EventBusCore) };
  }

  /** Event id -> the entry ids holding it in the stream. */
  async function entriesById(): Promise<Map<string, string[]>> {
    const byId = new Map<string, string[]>();
    for (const [entryId, fields] of await direct.xrange(STREAM_KEY, '-', '+')) {
      const id = fields[fields.indexOf('id') + 1];
      byId.set(id, [...(byId.get(id) ?? []), entryId]);
    }
    return byId;
  }

  function publishAll(publisher: EventPublisher, tag: string) {
    const singles = Array.from({ length: 200 }, (_, i) =>
      publisher.publish(new ParcelShipped({ parcelId: `${tag}-s${i}` })),
    );
    const batch = publisher.publishMany(
      Array.from({ length: 100 }, (_, i) => new ParcelShipped({ parcelId: `${tag}-m${i}` })),
    );
    return Promise.all([Promise.all(singles), batch]).then(([a, b]) => [...a, ...b]);
  }

  it('writes that ran before the connection dropped are found, not sent again: each event once, with the entry id it got', async () => {
    // Tried: 200 concurrent publish() and a publishMany of 100 while the proxy drops Redis's
    // replies; once all 301 entries are in the stream the connection is cut and restored.
    const { publisher, core } = await start();
    proxy.mode = 'drop-replies';
    const published = publishAll(publisher, 'R');
    const deadline = Date.now() + 5_000;
    while ((await direct.xlen(STREAM_KEY)) < 301 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await direct.xlen(STREAM_KEY)).toBe(301);
    proxy.mode = 'pass';
    proxy.cut();

    const results = await published;
    const byId = await entriesById();
    expect(results).toHaveLength(300);
    for (const r of results) expect(byId.get(r.envelope.id)).toEqual([r.entryId]);
    expect([...byId.values()].filter((ids) => ids.length > 1)).toEqual([]);
    expect(core.writer!.stats).toMatchObject({ searched: 300, found: 300, resent: 0 });
  });

  it('writes that never reached Redis are sent again once: each event once', async () => {
    // Tried: the same publishes while the proxy drops the requests, then cut and restored.
    const { publisher, core } = await start();
    proxy.mode = 'drop-requests';
    const published = publishAll(publisher, 'Q');
    await new Promise((r) => setTimeout(r, 100));
    expect(await direct.xlen(STREAM_KEY)).toBe(1);
    proxy.mode = 'pass';
    proxy.cut();

    const results = await published;
    const byId = await entriesById();
    for (const r of results) expect(byId.get(r.envelope.id)).toEqual([r.entryId]);
    expect(byId.size).toBe(301);
    expect(core.writer!.stats).toMatchObject({ searched: 300, found: 0, resent: 300 });
  });

  it('a connection that stays unanswered past the deadline fails the publish; the write may be there, never twice', async () => {
    // Tried: replies dropped for longer than publishTimeoutMs (400 ms), then the connection cut and restored.
    const { publisher } = await start(400);
    proxy.mode = 'drop-replies';
    const began = Date.now();
    const failed = await publisher.publish(new ParcelShipped({ parcelId: 'late' })).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(PublishFailedError);
    expect((failed as Error).message).toMatch(/may have landed, once/);
    expect(Date.now() - began).toBeGreaterThanOrEqual(390);
    proxy.mode = 'pass';
    proxy.cut();
    // The next publish goes through the restored connection; the late one stays as it was.
    await publisher.publish(new ParcelShipped({ parcelId: 'after' }));
    const late = (failed as PublishFailedError).eventIds[0];
    expect((await entriesById()).get(late)).toHaveLength(1);
  });

  it('closing the app with a publish unanswered waits for it to settle: it fails at its deadline, close() returns', async () => {
    // Tried: replies dropped, one publish in flight, app.close() called at once (publishTimeoutMs 400 ms).
    const { publisher } = await start(400);
    proxy.mode = 'drop-replies';
    const app = apps.pop()!;
    const began = Date.now();
    const publishing = publisher.publish(new ParcelShipped({ parcelId: 'closing' })).catch((error: unknown) => error);
    await app.close();
    const closedAfter = Date.now() - began;
    expect(await publishing).toBeInstanceOf(PublishFailedError);
    expect(closedAfter).toBeGreaterThanOrEqual(350);
    expect(closedAfter).toBeLessThan(5_000);
  });

  it('the hazard is real: a plain ioredis client through the same proxy writes such events twice', async () => {
    // Tried: ioredis defaults (it resends unanswered commands after reconnecting), replies dropped, then cut.
    const plain = new Redis(proxy.url);
    await plain.ping();
    proxy.mode = 'drop-replies';
    const sent = Array.from({ length: 50 }, (_, i) => plain.xadd(STREAM_KEY, '*', 'id', `plain-${i}`));
    const deadline = Date.now() + 5_000;
    while ((await direct.xlen(STREAM_KEY)) < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    proxy.mode = 'pass';
    proxy.cut();
    await Promise.all(sent);
    plain.disconnect();
    const twice = [...(await entriesById()).values()].filter((ids) => ids.length === 2);
    expect(twice).toHaveLength(50);
  });
});
