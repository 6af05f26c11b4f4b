import { Injectable, Logger, Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsInt } from 'class-validator';
import type Redis from 'ioredis';
import {
  EventBusModule,
  EventContract,
  EventPublisher,
  RawEntry,
  RawSubscription,
  RawSubscriptionOptions,
  RawSubscriptions,
  Subscribe,
} from '@nest-streams/event-bus';
import {
  describeIf,
  testBusOptions,
  testKeys,
  testNamespace,
  testPartitions,
  testRedisClient,
  waitFor,
} from '../../../test/support/redis';

@EventContract({ type: 'TapProbed', stream: 'tap-probes' })
class TapProbed {
  @IsInt()
  n!: number;

  constructor(props?: TapProbed) {
    if (props) Object.assign(this, props);
  }
}

/** A service that gives TapProbed n=13 up at once: its dead letter lands in the dead-letter stream of tap-probes. */
@Injectable()
class Refuser {
  @Subscribe(TapProbed, { group: 'refuser', retry: { maxAttempts: 1 } })
  take(event: TapProbed): void {
    if (event.n === 13) throw new Error('13 is refused');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const GROUP = 'tap';

/**
 * Raw subscriptions against the run's Redis (standalone or cluster, one partition): every entry of a set of streams (and their dead
 * letters) as batches, on the consumer loop `@Subscribe` uses, so with its acknowledgement,
 * retries, claims and shutdown.
 */
describeIf(testPartitions() === 1, 'writes raw entries (no subject, no id) to the unpartitioned stream keys')(
  'raw subscriptions (real Redis)',
  () => {
    let redis: Redis;
    const apps: INestApplicationContext[] = [];
    let warn: jest.SpyInstance;

    beforeAll(() => {
      redis = testRedisClient();
    });
    beforeEach(() => {
      warn = jest.spyOn(Logger.prototype, 'warn');
    });
    afterEach(async () => {
      warn.mockRestore();
      await Promise.all(apps.splice(0).map((app) => app.close()));
    });
    afterAll(async () => {
      await redis.quit();
    });

    async function start(
      namespace: string,
      options: { consumerName?: string; refuser?: boolean } = {},
    ): Promise<INestApplicationContext> {
      @Module({
        imports: [
          EventBusModule.forRoot({
            ...testBusOptions(),
            namespace,
            consumerName: options.consumerName,
            consumer: { blockMs: 100 },
          }),
        ],
        providers: options.refuser ? [Refuser] : [],
      })
      class TapApp {}
      const app = await NestFactory.createApplicationContext(TapApp, { logger: ['error'] });
      apps.push(app);
      return app;
    }

    function subscribe(
      app: INestApplicationContext,
      options: Partial<RawSubscriptionOptions> & Pick<RawSubscriptionOptions, 'handle'>,
    ): Promise<RawSubscription> {
      return app.get(RawSubscriptions).subscribe({ group: GROUP, streams: ['tap-probes'], ...options });
    }

    async function pending(key: string, group = GROUP): Promise<number> {
      const [count] = (await redis.xpending(key, group)) as [number];
      return Number(count);
    }

    function warnings(pattern: RegExp): string[] {
      return warn.mock.calls.map(([message]) => String(message)).filter((m) => pattern.test(m));
    }

    it('delivers every entry of two streams and of a dead-letter stream as batches, each acknowledged after its handler', async () => {
      const ns = testNamespace('raw-all');
      const probes = testKeys(ns).stream('tap-probes');
      const other = testKeys(ns).stream('tap-other');
      // Written before the group exists (it starts at the beginning), and no event at all: raw entries are not decoded.
      await redis.xadd(other, '*', 'anything', 'goes');
      const app = await start(ns, { refuser: true });
      const batches: RawEntry[][] = [];
      const pendingWhileHandled: number[] = [];
      await subscribe(app, {
        streams: ['tap-probes', 'tap-other'],
        deadLetters: true,
        consumer: { batchSize: 4 },
        handle: async (batch) => {
          batches.push(batch);
          for (const e of batch)
            pendingWhileHandled.push(
              ((await redis.xpending(e.key, GROUP, e.entryId, e.entryId, 1)) as unknown[]).length,
            );
        },
      });
      await app.get(EventPublisher).publishMany(Array.from({ length: 20 }, (_, n) => new TapProbed({ n })));
      for (let i = 0; i < 5; i++) await redis.xadd(other, '*', 'i', String(i));
      await waitFor('the dead letter of n=13', async () => (await redis.xlen(`${probes}:dlq`)) === 1);

      const expected: string[] = [];
      for (const [stream, key, kind] of [
        ['tap-probes', probes, 'event'],
        ['tap-other', other, 'event'],
        ['tap-probes', `${probes}:dlq`, 'dead-letter'],
      ]) {
        for (const [entryId, fields] of await redis.xrange(key, '-', '+'))
          expected.push(`${kind} ${stream} ${key} ${entryId} ${JSON.stringify(fields)}`);
      }
      expect(expected).toHaveLength(20 + 6 + 1);
      await waitFor('every entry handled', () => batches.flat().length >= expected.length);
      await waitFor(
        'nothing pending',
        async () => (await pending(probes)) + (await pending(other)) + (await pending(`${probes}:dlq`)) === 0,
      );
      await sleep(200);

      const seen = batches.flat();
      expect(seen.map((e) => `${e.kind} ${e.stream} ${e.key} ${e.entryId} ${JSON.stringify(e.fields)}`).sort()).toEqual(
        expected.sort(),
      );
      expect(seen.every((e) => e.deliveryCount === 1)).toBe(true);
      // NOTE: XREADGROUP's COUNT holds per key: a batch has at most batchSize entries of each key.
      const perKey = batches.flatMap((b) =>
        [...new Set(b.map((e) => e.key))].map((key) => b.filter((e) => e.key === key).length),
      );
      expect(Math.max(...perKey)).toBeLessThanOrEqual(4);
      expect(batches.some((b) => b.length > 1)).toBe(true);
      expect(pendingWhileHandled).toEqual(seen.map(() => 1));
      const letter = seen.find((e) => e.kind === 'dead-letter')!;
      expect(letter.fields).toEqual(expect.arrayContaining(['reason', 'handler-failed', 'group', 'refuser']));
    });

    it('hands a batch whose handler threw once over again, then acknowledges it; one warning per failure streak', async () => {
      const ns = testNamespace('raw-retry');
      const key = testKeys(ns).stream('tap-probes');
      for (let i = 0; i < 3; i++) await redis.xadd(key, '*', 'i', String(i));
      const app = await start(ns);
      const calls: RawEntry[][] = [];
      await subscribe(app, {
        consumer: { retry: { initialDelayMs: 50, jitter: 0 } },
        handle: (batch) => {
          calls.push(batch.map((e) => ({ ...e })));
          if (calls.length === 1) throw new Error('index store refused the batch');
        },
      });
      await waitFor('the batch again', () => calls.length >= 2);
      await waitFor('nothing pending', async () => (await pending(key)) === 0);
      await sleep(200);
      expect(calls).toHaveLength(2);
      expect(calls[1].map((e) => e.entryId)).toEqual(calls[0].map((e) => e.entryId));
      expect(calls[0].map((e) => e.deliveryCount)).toEqual([1, 1, 1]);
      expect(calls[1].map((e) => e.deliveryCount)).toEqual([2, 2, 2]);
      expect(warnings(/index store refused the batch/)).toHaveLength(1);
    });

    it('keeps a batch that keeps failing pending, warns once, and leaves it pending at shutdown without waiting out the backoff', async () => {
      const ns = testNamespace('raw-failing');
      const key = testKeys(ns).stream('tap-probes');
      await redis.xadd(key, '*', 'i', '0');
      await redis.xadd(key, '*', 'i', '1');
      const app = await start(ns);
      let attempts = 0;
      const subscription = await subscribe(app, {
        consumer: { retry: { initialDelayMs: 20, maxDelayMs: 5_000, jitter: 0 } },
        handle: () => {
          attempts++;
          throw new Error('index store is down');
        },
      });
      await waitFor('five attempts', () => attempts >= 5);
      expect(await pending(key)).toBe(2);
      expect(warnings(/index store is down/)).toHaveLength(1);
      expect(subscription.stats).toMatchObject({ acked: 0, failed: attempts });

      const began = Date.now();
      await subscription.stop();
      expect(Date.now() - began).toBeLessThan(1_000);
      expect(await pending(key)).toBe(2);
    });

    it('claims what a dead consumer left pending once it is idle past the claim timeout', async () => {
      const ns = testNamespace('raw-claim');
      const key = testKeys(ns).stream('tap-probes');
      await redis.xgroup('CREATE', key, GROUP, '0', 'MKSTREAM');
      for (let i = 0; i < 3; i++) await redis.xadd(key, '*', 'i', String(i));
      // A consumer that read 3 entries and died: a raw XREADGROUP that never acknowledges.
      const taken = (await redis.xreadgroup('GROUP', GROUP, 'ghost', 'COUNT', 10, 'STREAMS', key, '>')) as Array<
        [string, unknown[]]
      >;
      expect(taken[0][1]).toHaveLength(3);
      const began = Date.now();

      const app = await start(ns, { consumerName: 'live' });
      const seen: Array<RawEntry & { at: number }> = [];
      await subscribe(app, {
        consumer: { claimTimeoutMs: 400, claimIntervalMs: 100 },
        handle: (batch) => void seen.push(...batch.map((e) => ({ ...e, at: Date.now() }))),
      });
      await waitFor('the ghost entries handled', () => seen.length >= 3);
      await waitFor('nothing pending', async () => (await pending(key)) === 0);
      expect(seen).toHaveLength(3);
      expect(Math.min(...seen.map((e) => e.at)) - began).toBeGreaterThanOrEqual(380);
      expect(seen.map((e) => e.deliveryCount)).toEqual([2, 2, 2]);
    });

    it('stop() waits for the batch in flight, acknowledges it, and reads nothing more', async () => {
      const ns = testNamespace('raw-stop');
      const key = testKeys(ns).stream('tap-probes');
      const app = await start(ns);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const handled: string[] = [];
      const subscription = await subscribe(app, {
        handle: async (batch) => {
          await gate;
          handled.push(...batch.map((e) => e.entryId));
        },
      });
      await redis.xadd(key, '*', 'i', '0');
      await redis.xadd(key, '*', 'i', '1');
      await waitFor('the batch in flight', () => subscription.inFlight === 2);

      let stopped = false;
      const stopping = subscription.stop().then(() => (stopped = true));
      await sleep(300);
      expect(stopped).toBe(false);
      expect(await pending(key)).toBe(2);
      release();
      await stopping;
      expect(handled).toHaveLength(2);
      expect(await pending(key)).toBe(0);
      expect(subscription.isAlive()).toBe(false);

      await redis.xadd(key, '*', 'i', '2');
      await sleep(300);
      expect(handled).toHaveLength(2);
    });

    it('creates its group again when the stream is deleted under it, and goes on', async () => {
      const ns = testNamespace('raw-nogroup');
      const key = testKeys(ns).stream('tap-probes');
      const app = await start(ns);
      const seen: string[] = [];
      await subscribe(app, { handle: (batch) => void seen.push(...batch.map((e) => e.fields.join('='))) });
      await redis.xadd(key, '*', 'i', 'before');
      await waitFor('the first entry', () => seen.includes('i=before'));
      await sleep(150);
      await redis.del(key);
      await redis.xadd(key, '*', 'i', 'after');
      await waitFor('the entry written after the stream was deleted', () => seen.includes('i=after'));
      await waitFor('nothing pending', async () => (await pending(key)) === 0);
    });

    it('refuses a group this process already consumes, by @Subscribe handlers or by another raw subscription, and stops at application shutdown', async () => {
      const ns = testNamespace('raw-taken');
      const app = await start(ns, { refuser: true });
      const subscription = await subscribe(app, { handle: () => undefined });
      await expect(subscribe(app, { handle: () => undefined })).rejects.toThrow(
        /consumer group tap is already consumed in this process \(a raw subscription\)/,
      );
      await expect(subscribe(app, { group: 'refuser', handle: () => undefined })).rejects.toThrow(
        /already consumed in this process \(@Subscribe handlers\)/,
      );
      await expect(subscribe(app, { group: 'empty', streams: [], handle: () => undefined })).rejects.toThrow(
        /names no streams/,
      );
      expect(subscription.isAlive()).toBe(true);
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      expect(subscription.isAlive()).toBe(false);
    });
  },
);
