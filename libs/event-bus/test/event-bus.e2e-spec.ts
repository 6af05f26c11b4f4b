import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import { EventBusExplorer } from '@nest-streams/event-bus/event-bus.explorer';
import { EventPublisher, EventValidationError, encodeEnvelope } from '@nest-streams/event-bus';
import { type PartitionedGroup } from '@nest-streams/event-bus/consumer/partitioned-group';
import { createFixtureApp, FixtureBehaviour, ParcelDesk } from './fixtures/fixture-app';
import { ParcelOrdered, ParcelWeighed } from './fixtures/fixture-events';
import {
  itIf,
  pendingCount,
  streamLength,
  testBusOptions,
  testKeys,
  testNamespace,
  testPartitions,
  testRedisClient,
  testTopology,
  waitFor,
} from '../../../test/support/redis';
import { xaddFields, xrangeAll } from '../../../test/support/streams';

/**
 * The library against the run's Redis (every test topology): a fixture app with two services (billing and
 * shipping groups) published to and consumed from, as NestJS services would use it.
 */
describe('event bus (real Redis)', () => {
  let redis: Redis;
  const apps: INestApplication[] = [];

  beforeAll(() => {
    redis = testRedisClient();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await redis.quit();
  });

  async function start(namespace: string, extra: Partial<Parameters<typeof createFixtureApp>[0]> = {}) {
    const fixture = await createFixtureApp({ ...testBusOptions(), namespace, ...extra });
    apps.push(fixture.app);
    return fixture;
  }

  async function pending(namespace: string, stream: string, group: string): Promise<number> {
    return pendingCount(redis, namespace, stream, group);
  }

  function rawEntry(overrides: Record<string, string | undefined>): string[] {
    const fields = encodeEnvelope({
      specversion: '1.0',
      id: `raw-${Math.random().toString(36).slice(2)}`,
      type: 'ParcelOrdered',
      version: 1,
      source: 'redis-cli',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { parcelId: 'P-raw', weight: 3 },
    });
    const record: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) record[fields[i]] = fields[i + 1];
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete record[k];
      else record[k] = v;
    }
    return Object.entries(record).flat();
  }

  it('delivers one published event to each of two services exactly once, with the envelope stamped', async () => {
    const ns = testNamespace('fanout');
    const { app, behaviour } = await start(ns);
    const published = await app.get(ParcelDesk).order('P-1', 5);
    expect(published).toBeInstanceOf(ParcelOrdered);

    await waitFor('billing, shipping and the chained ParcelShipped', () => behaviour.handled.length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    const seen = behaviour.handled.map((h) => `${h.group}:${h.parcelId}`).sort();
    expect(seen).toEqual(['billing:P-1', 'shipping:P-1', 'shipping:shipped:P-1']);

    const billing = behaviour.handled.find((h) => h.group === 'billing')!;
    expect(billing.context.envelope).toMatchObject({
      specversion: '1.0',
      type: 'ParcelOrdered',
      version: 1,
      source: 'billing-service',
      datacontenttype: 'application/json',
      subject: 'P-1',
    });
    expect(billing.context.deliveryCount).toBe(1);
    expect(billing.context.replay).toBe(false);
    const orderedId = billing.context.envelope.id;
    expect(billing.context.envelope.correlationid).toBe(orderedId);

    const shipped = behaviour.handled.find((h) => h.parcelId === 'shipped:P-1')!;
    expect(shipped.context.envelope.source).toBe('shipping-service');
    expect(shipped.context.envelope.causationid).toBe(orderedId);
    expect(shipped.context.envelope.correlationid).toBe(orderedId);

    expect(await pending(ns, 'parcels', 'billing')).toBe(0);
    expect(await pending(ns, 'parcels', 'shipping')).toBe(0);
  });

  it('shares the work of one service between two instances: every event once, both busy', async () => {
    const ns = testNamespace('share');
    const behaviour = new FixtureBehaviour();
    behaviour.delayMs = 2;
    const a = await start(ns, {
      consumerName: 'billing-a',
      services: ['billing'],
      behaviour,
      consumer: { batchSize: 10 },
    });
    const b = await start(ns, {
      consumerName: 'billing-b',
      services: ['billing'],
      behaviour,
      consumer: { batchSize: 10 },
    });
    if (testPartitions() > 1) {
      // NOTE: with partitions the instances share the work by partition: b takes its share at a's next heartbeat.
      const owned = (app: typeof a.app): number =>
        (app.get(EventBusExplorer).groups.get('billing') as PartitionedGroup).partitions.size;
      await waitFor(
        'both instances own partitions',
        () => owned(a.app) > 0 && owned(b.app) > 0 && owned(a.app) + owned(b.app) === testPartitions(),
      );
    }
    const events = Array.from({ length: 400 }, (_, i) => new ParcelOrdered({ parcelId: `P-${i}`, weight: 1 }));
    await a.app.get(EventPublisher).publishMany(events);

    await waitFor('400 billings', () => behaviour.handled.length >= 400);
    const ids = behaviour.handled.map((h) => h.parcelId);
    expect(new Set(ids).size).toBe(400);
    expect(ids.length).toBe(400);
    const byConsumer = new Map<string, number>();
    for (const h of behaviour.handled)
      byConsumer.set(h.context.consumer, (byConsumer.get(h.context.consumer) ?? 0) + 1);
    expect([...byConsumer.keys()].sort()).toEqual(['billing-a', 'billing-b']);
  });

  it('starts a new group at the beginning of the stream: events published before the service existed are handled', async () => {
    const ns = testNamespace('early');
    await xaddFields(redis, ns, 'parcels', rawEntry({ data: JSON.stringify({ parcelId: 'P-early', weight: 2 }) }));
    const { behaviour } = await start(ns, { services: ['billing'] });
    await waitFor('the early event', () => behaviour.handled.some((h) => h.parcelId === 'P-early'));
  });

  it('refuses an invalid payload on publish with the fields named, and writes nothing', async () => {
    const ns = testNamespace('refuse');
    const { app } = await start(ns, { services: ['billing'] });
    const publisher = app.get(EventPublisher);
    const bad = new ParcelOrdered({ parcelId: 42 as unknown as string, weight: 0 });
    const error = await publisher.publish(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).fields.map((f) => f.field).sort()).toEqual(['parcelId', 'weight']);
    expect((error as Error).message).toMatch(/parcelId/);
    const batch = await publisher
      .publishMany([new ParcelOrdered({ parcelId: 'ok', weight: 1 }), bad])
      .catch((e: unknown) => e);
    expect(batch).toBeInstanceOf(EventValidationError);
    expect(await streamLength(redis, ns, 'parcels')).toBe(0);
  });

  it('consumes an entry written by a raw client per the contract, and dead-letters the ones that break it while the loop goes on', async () => {
    const ns = testNamespace('raw');
    const { behaviour } = await start(ns, { services: ['billing'] });
    // Tried: bad JSON, data not an object, a missing field, a payload failing validation,
    // an unknown type, an unknown version; then a valid raw entry and a registered type nobody wants.
    const cases: Array<[string, Record<string, string | undefined>]> = [
      ['bad-json', { data: '{"parcelId": ' }],
      ['data-not-object', { data: '[1]' }],
      ['missing-field', { source: undefined }],
      ['invalid-payload', { data: JSON.stringify({ parcelId: 'P-x', weight: -1 }) }],
      ['unknown-type', { type: 'ParcelTeleported' }],
      ['unknown-version', { version: '7' }],
    ];
    for (const [, overrides] of cases) await xaddFields(redis, ns, 'parcels', rawEntry(overrides));
    await xaddFields(redis, ns, 'parcels', rawEntry({ data: JSON.stringify({ parcelId: 'P-raw-ok', weight: 1 }) }));
    await xaddFields(
      redis,
      ns,
      'parcels',
      rawEntry({ type: 'ParcelWeighed', data: JSON.stringify({ parcelId: 'P-w' }) }),
    );
    expect(ParcelWeighed).toBeDefined();

    await waitFor('the valid raw entry', () => behaviour.handled.some((h) => h.parcelId === 'P-raw-ok'));
    // NOTE: on 16 partitions the six entries may sit in six partitions, each read once its lease is taken.
    await waitFor('six dead letters', async () => (await xrangeAll(redis, ns, 'parcels', ':dlq')).length >= 6, 20_000);
    const letters = (await xrangeAll(redis, ns, 'parcels', ':dlq')).map(([, f]) => {
      const r: Record<string, string> = {};
      for (let i = 0; i < f.length; i += 2) r[f[i]] = f[i + 1];
      return r;
    });
    expect(letters.map((l) => l.reason).sort()).toEqual(cases.map(([reason]) => reason).sort());
    for (const letter of letters) {
      expect(letter).toMatchObject({ stream: 'parcels', group: 'billing', attempts: '1' });
      expect(letter.error.length).toBeGreaterThan(0);
      expect(JSON.parse(letter.envelope)).toHaveProperty('specversion', '1.0');
    }
    expect(letters.find((l) => l.reason === 'invalid-payload')!.error).toMatch(/weight/);
    expect(behaviour.handled.map((h) => h.parcelId)).toEqual(['P-raw-ok']);
    await waitFor('nothing pending', async () => (await pending(ns, 'parcels', 'billing')) === 0);
  });

  it("reads a restarted consumer's own pending entries back first, with their delivery count", async () => {
    const ns = testNamespace('restart');
    const behaviour = new FixtureBehaviour();
    let hang = true;
    // The first instance never finishes P-stuck (as if it died mid-handler): shutdown gives up on
    // it after shutdownTimeoutMs and leaves it pending.
    behaviour.onBilling = (parcelId) =>
      parcelId === 'P-stuck' && hang ? new Promise<void>(() => undefined) : undefined;
    const first = await start(ns, {
      consumerName: 'billing-1',
      services: ['billing'],
      behaviour,
      consumer: { shutdownTimeoutMs: 200 },
    });
    await first.app
      .get(EventPublisher)
      .publishMany([
        new ParcelOrdered({ parcelId: 'P-ok', weight: 1 }),
        new ParcelOrdered({ parcelId: 'P-stuck', weight: 1 }),
      ]);
    await waitFor('P-ok handled', () => behaviour.handled.length === 1);
    await first.app.close();
    apps.splice(apps.indexOf(first.app), 1);
    expect(await pending(ns, 'parcels', 'billing')).toBe(1);

    hang = false;
    await start(ns, { consumerName: 'billing-1', services: ['billing'], behaviour });
    await waitFor('P-stuck handled after restart', () => behaviour.handled.some((h) => h.parcelId === 'P-stuck'));
    const again = behaviour.handled.find((h) => h.parcelId === 'P-stuck')!;
    expect(again.context.deliveryCount).toBe(2);
    await waitFor('nothing pending', async () => (await pending(ns, 'parcels', 'billing')) === 0);
  });

  it('handles events of one subject in stream order even when earlier ones are slower', async () => {
    const ns = testNamespace('order');
    const behaviour = new FixtureBehaviour();
    const order: string[] = [];
    behaviour.onBilling = async (parcelId) => {
      const n = Number(parcelId.split('#')[1]);
      await new Promise((r) => setTimeout(r, 20 - n * 2));
      order.push(parcelId);
    };
    const { app } = await start(ns, { services: ['billing'], behaviour, consumer: { concurrency: 16 } });
    const events = [];
    for (let n = 0; n < 8; n++) {
      for (const s of ['A', 'B'])
        events.push({ event: new ParcelOrdered({ parcelId: `${s}#${n}`, weight: 1 }), options: { subject: s } });
    }
    await app.get(EventPublisher).publishMany(events);
    await waitFor('16 handled', () => order.length === 16);
    expect(order.filter((p) => p.startsWith('A'))).toEqual(Array.from({ length: 8 }, (_, n) => `A#${n}`));
    expect(order.filter((p) => p.startsWith('B'))).toEqual(Array.from({ length: 8 }, (_, n) => `B#${n}`));
  });

  // NOTE: on Redis Cluster shutdown waits out a blocked read (no CLIENT UNBLOCK there: README, Redis Cluster).
  itIf(testTopology().redis === 'standalone', 'shutdown waits out a blocked read on Redis Cluster')(
    'drains on shutdown: in-flight handlers finish and are acknowledged, and close does not wait out BLOCK',
    async () => {
      const ns = testNamespace('drain');
      const behaviour = new FixtureBehaviour();
      behaviour.delayMs = 25;
      const { app } = await start(ns, {
        services: ['billing'],
        behaviour,
        consumer: { blockMs: 10_000, batchSize: 20, concurrency: 4 },
      });
      await app
        .get(EventPublisher)
        .publishMany(Array.from({ length: 20 }, (_, i) => new ParcelOrdered({ parcelId: `D-${i}`, weight: 1 })));
      await waitFor('first handler done', () => behaviour.handled.length > 0);
      const handledAtClose = behaviour.handled.length;
      const began = Date.now();
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      expect(handledAtClose).toBeLessThan(20);
      expect(behaviour.handled.length).toBe(20);
      expect(await pending(ns, 'parcels', 'billing')).toBe(0);
      expect(Date.now() - began).toBeLessThan(5_000);

      const idle = await start(ns, { services: ['billing'], consumer: { blockMs: 10_000 } });
      await new Promise((r) => setTimeout(r, 100));
      const idleBegan = Date.now();
      await idle.app.close();
      apps.splice(apps.indexOf(idle.app), 1);
      expect(Date.now() - idleBegan).toBeLessThan(2_000);
    },
  );

  it('names each binding and exposes the running groups', async () => {
    const ns = testNamespace('groups');
    const { app } = await start(ns);
    expect([...app.get(EventBusExplorer).groups.keys()].sort()).toEqual(['billing', 'shipping']);
    const groups = (await redis.xinfo('GROUPS', testKeys(ns).stream('parcels', 0))) as unknown[][];
    expect(groups.map((g) => g[1]).sort()).toEqual(['billing', 'shipping']);
  });
});
