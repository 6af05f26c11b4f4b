import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import {
  CrossSlotTransactionError,
  DeadLetterService,
  EventBusCore,
  EventBusModule,
  EventContext,
  EventPublisher,
  Subscribe,
} from '@nest-streams/event-bus';
import { ParcelOrdered, ParcelShipped } from './fixtures/fixture-events';
import { RedisCluster } from '../../../test/support/redis-cluster';
import { waitFor } from '../../../test/support/redis';

/** What the test's handler writes in its commit: a key of the namespace, or one outside it. */
let stateKey = (ns: string, parcelId: string): string => `${ns}:state:${parcelId}`;

@Injectable()
class Shipper {
  @Subscribe(ParcelOrdered, { group: 'shipper' })
  async ship(p: ParcelOrdered, ctx: EventContext): Promise<void> {
    const ns = ctx.envelope.source;
    await ctx.commit((tx) => tx.set(stateKey(ns, p.parcelId), 'shipped'), {
      publish: [new ParcelShipped({ parcelId: p.parcelId })],
    });
  }
}

/**
 * Transactions on a real 3-master Redis Cluster: atomic when their keys share the namespace's
 * slot; refused before anything is written when they would span slots, with the keys named.
 */
describe('transactions on Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let app: INestApplicationContext;
  let core: EventBusCore;
  const ns = `ct${Date.now().toString(36)}`;

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3 });
    client = cluster.client();
    @Module({
      imports: [
        EventBusModule.forRoot({
          redis: { cluster: cluster.seeds },
          namespace: ns,
          source: ns,
          consumer: { blockMs: 100, retry: { initialDelayMs: 20, jitter: 0 } },
        }),
      ],
      providers: [Shipper],
    })
    class AppModule {}
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    core = app.get(EventBusCore);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await cluster?.destroy();
  });

  it('publish({ with }) on keys of the namespace is one transaction; a key outside it is refused, nothing written', async () => {
    const publisher = app.get(EventPublisher);
    const prefix = core.keys.namespace;
    expect(prefix).toBe(`{${ns}}`);
    await publisher.publish(new ParcelShipped({ parcelId: 'C-1' }), {
      with: (tx) => tx.set(`${prefix}:outbox:C-1`, 'x'),
    });
    expect(await client.get(`${prefix}:outbox:C-1`)).toBe('x');
    const before = await client.xlen(core.keys.stream('parcels'));
    const refused = await publisher
      .publish(new ParcelShipped({ parcelId: 'C-2' }), { with: (tx) => tx.set('elsewhere:C-2', 'x') })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CrossSlotTransactionError);
    expect((refused as Error).message).toMatch(/elsewhere:C-2 \(slot \d+\)/);
    expect((refused as Error).message).toMatch(/Nothing was written/);
    expect(await client.get('elsewhere:C-2')).toBeNull();
    expect(await client.xlen(core.keys.stream('parcels'))).toBe(before);
  });

  it('a commit that would span slots is dead-lettered at once, naming the keys; one within the slot lands whole', async () => {
    const publisher = app.get(EventPublisher);
    stateKey = (_ns, parcelId) => `${core.keys.namespace}:state:${parcelId}`;
    await publisher.publish(new ParcelOrdered({ parcelId: 'C-ok', weight: 1 }));
    await waitFor('state written', async () => (await client.get(`${core.keys.namespace}:state:C-ok`)) === 'shipped');
    stateKey = (_ns, parcelId) => `outside:${parcelId}`;
    await publisher.publish(new ParcelOrdered({ parcelId: 'C-bad', weight: 1 }));
    const letters = app.get(DeadLetterService);
    await waitFor('dead letter', async () => (await letters.count('parcels')) === 1);
    const [letter] = await letters.list('parcels');
    expect(letter).toMatchObject({ reason: 'unrecoverable', attempts: 1, group: 'shipper' });
    expect(letter.error).toMatch(/outside:C-bad \(slot \d+\)/);
    expect(await client.get('outside:C-bad')).toBeNull();
    const shipped = (await client.xrange(core.keys.stream('parcels'), '-', '+'))
      .map(([, f]) => f.join(' '))
      .filter((f) => f.includes('ParcelShipped'));
    expect(shipped.some((f) => f.includes('C-ok'))).toBe(true);
    expect(shipped.some((f) => f.includes('C-bad'))).toBe(false);
  });
});
