import type Redis from 'ioredis';
import { ConcurrencyError, Event, EventStore, ExpectedVersion, toStreamName } from '@nest-streams/event-store';
import { ISO_TIME_LUA } from '../src/event-store.scripts';
import { testNamespace, testRedisClient } from '../../../test/support/redis';
import { tallyDecider } from './fixtures/tally.decider';

type Deposit = Event<'Deposited', { amount: number }>;
const deposit = (amount: number, metadata?: Record<string, string>): Deposit => ({
  type: 'Deposited',
  data: { amount },
  metadata,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The store against the run's redis-server: appends, expected versions, reads, time travel. */
describe('EventStore (real Redis)', () => {
  let redis: Redis;
  let store: EventStore;
  let namespace: string;
  let n = 0;
  const stream = () => toStreamName('Acc', `s${++n}`);

  beforeAll(() => {
    redis = testRedisClient();
    namespace = testNamespace('es');
    store = new EventStore(redis, { namespace });
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('appends events with consecutive versions, server time and merged metadata, readable by any Redis client', async () => {
    const name = stream();
    const before = Date.now();
    const first = await store.append(name, [deposit(10, { causationId: 'req-1' }), deposit(20)], {
      expectedVersion: 'no-stream',
      metadata: { correlationId: 'flow-1' },
    });
    const second = await store.append(name, deposit(5), { expectedVersion: 2 });
    expect(first.version).toBe(2);
    expect(second.version).toBe(3);
    expect(first.events.map((e) => e.version)).toEqual([1, 2]);
    expect(first.events[0].metadata).toEqual({ correlationId: 'flow-1', causationId: 'req-1' });
    expect(first.events[1].time).toBe(first.events[0].time);
    expect(Date.parse(first.events[0].time)).toBeGreaterThanOrEqual(before - 1000);
    expect(new Date(first.events[0].time).toISOString()).toBe(first.events[0].time);

    const raw = await redis.xrange(`${namespace}:es:{${name}}`, '-', '+');
    expect(raw.map(([id]) => id)).toEqual(['0-1', '0-2', '0-3']);
    const fields = Object.fromEntries(
      raw[0][1].reduce<string[][]>((pairs, v, i, all) => (i % 2 ? pairs : [...pairs, [v, all[i + 1]]]), []),
    );
    expect(fields).toEqual({
      type: 'Deposited',
      data: '{"amount":10}',
      version: '1',
      time: first.events[0].time,
      metadata: '{"correlationId":"flow-1","causationId":"req-1"}',
    });
    expect(await redis.hget(`${namespace}:es:{${name}}:meta`, 'version')).toBe('3');

    const read = await store.readForward(name);
    expect(read.map((e) => [e.version, e.type, e.data])).toEqual([
      [1, 'Deposited', { amount: 10 }],
      [2, 'Deposited', { amount: 20 }],
      [3, 'Deposited', { amount: 5 }],
    ]);
    expect(read[0]).toEqual(first.events[0]);
    expect(await store.version(name)).toBe(3);
    expect(await store.version(stream())).toBe(0);
  });

  it.each<[string, ExpectedVersion, number]>([
    ["'no-stream' on a stream with events", 'no-stream', 2],
    ['a version behind', 1, 2],
    ['a version ahead', 3, 2],
  ])('rejects %s with ConcurrencyError, writing nothing', async (_label, expectedVersion, actual) => {
    const name = stream();
    await store.append(name, [deposit(1), deposit(2)]);
    const error = await store.append(name, deposit(3), { expectedVersion }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ name: 'ConcurrencyError', streamName: name, expectedVersion, actualVersion: actual });
    expect((error as Error).message).toMatch(/reload the state and retry/);
    expect(await redis.xlen(`${namespace}:es:{${name}}`)).toBe(2);
    expect(await store.version(name)).toBe(2);
  });

  it("accepts 'any' whatever the version, and 0 / 'no-stream' on a new stream", async () => {
    const a = stream();
    const b = stream();
    expect((await store.append(a, deposit(1), { expectedVersion: 0 })).version).toBe(1);
    expect((await store.append(b, deposit(1), { expectedVersion: 'no-stream' })).version).toBe(1);
    expect((await store.append(b, deposit(1), { expectedVersion: 'any' })).version).toBe(2);
    expect((await store.append(b, deposit(1))).version).toBe(3);
    await expect(store.append(b, deposit(1), { expectedVersion: -1 })).rejects.toThrow(
      /expectedVersion -1 is not allowed/,
    );
  });

  it('five concurrent appends at the same expected version: exactly one succeeds, four get ConcurrencyError', async () => {
    const name = stream();
    await store.append(name, [deposit(1), deposit(2), deposit(3)]);
    const clients = Array.from({ length: 5 }, () => testRedisClient());
    try {
      const stores = clients.map((client) => new EventStore(client, { namespace }));
      await Promise.all(clients.map((c) => c.ping()));
      const outcomes = await Promise.allSettled(
        stores.map((s, i) => s.append(name, deposit(100 + i), { expectedVersion: 3 })),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(4);
      for (const o of lost)
        expect(o.reason).toMatchObject({ name: 'ConcurrencyError', expectedVersion: 3, actualVersion: 4 });
      const events = await store.readForward(name);
      expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4]);
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  it('reads forward and backward from any version, in pages', async () => {
    const name = stream();
    const paged = new EventStore(redis, { namespace, pageSize: 3 });
    await paged.append(
      name,
      Array.from({ length: 10 }, (_, i) => deposit(i + 1)),
    );
    const versions = (events: Array<{ version: number }>) => events.map((e) => e.version);
    expect(versions(await paged.readForward(name))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(versions(await paged.readForward(name, { from: 4, count: 4 }))).toEqual([4, 5, 6, 7]);
    expect(versions(await paged.readForward(name, { from: 8, to: 9 }))).toEqual([8, 9]);
    expect(versions(await paged.readForward(name, { from: 11 }))).toEqual([]);
    expect(versions(await paged.readBackward(name))).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(versions(await paged.readBackward(name, { from: 5, count: 4 }))).toEqual([5, 4, 3, 2]);
    expect(versions(await paged.readForward(stream()))).toEqual([]);
  });

  it('loads the state as of a version and as of a time', async () => {
    const name = stream();
    const decider = tallyDecider();
    const times: string[] = [];
    for (const amount of [0, 500, -150, 100, -250]) {
      const { events } = await store.append(name, { type: 'Added', data: { amount } });
      times.push(events[0].time);
      await sleep(3);
    }
    expect((await store.load(name, decider)).state.total).toBe(200);
    const at3 = await store.load(name, decider, { asOfVersion: 3 });
    expect(at3).toMatchObject({ version: 3, time: times[2], state: { total: 350, count: 3 } });
    expect((await store.load(name, decider, { asOfVersion: 0 })).state).toEqual(decider.initialState());
    expect((await store.load(name, decider, { asOfVersion: 99 })).version).toBe(5);

    for (let v = 1; v <= 5; v++) {
      expect(await store.versionAt(name, times[v - 1])).toBe(v);
      expect((await store.load(name, decider, { asOfTime: times[v - 1] })).version).toBe(v);
    }
    expect(await store.versionAt(name, new Date(Date.parse(times[0]) - 1))).toBe(0);
    expect(await store.versionAt(name, new Date(Date.parse(times[3]) + 1))).toBe(4);
    expect(await store.versionAt(name, '2999-01-01T00:00:00Z')).toBe(5);
    const asOfTime = await store.load(name, decider, { asOfTime: new Date(Date.parse(times[2]) + 1).toISOString() });
    expect(asOfTime.state.total).toBe(350);
    await expect(store.load(name, decider, { asOfVersion: 1, asOfTime: times[0] })).rejects.toThrow(/not both/);
    await expect(store.versionAt(name, 'yesterday')).rejects.toThrow(/not an ISO 8601 time/);
  });

  it('formats times in Lua exactly as Date#toISOString does', async () => {
    const samples = [0, 951782400000, 951868799999, 4107542400000, 1709164800123, 253402300799999];
    let x = 12345;
    for (let i = 0; i < 300; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      samples.push(Math.floor((x / 2147483648) * 253402300799999));
    }
    const lua = `${ISO_TIME_LUA}\nlocal out = {}\nfor i = 1, #ARGV do out[i] = iso_time(tonumber(ARGV[i])) end\nreturn out`;
    const formatted = (await redis.eval(lua, 0, ...samples.map(String))) as string[];
    expect(formatted).toEqual(samples.map((ms) => new Date(ms).toISOString()));
  });

  it('finds its version from the stream when the meta key was lost', async () => {
    const name = stream();
    await store.append(name, [deposit(1), deposit(2), deposit(3)]);
    await redis.del(`${namespace}:es:{${name}}:meta`);
    expect(await store.version(name)).toBe(3);
    await expect(store.append(name, deposit(4), { expectedVersion: 'no-stream' })).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    expect((await store.append(name, deposit(4), { expectedVersion: 3 })).version).toBe(4);
  });

  it('lists the streams of one aggregate type and deletes a stream with its companions', async () => {
    const own = new EventStore(redis, { namespace: testNamespace('es-list') });
    await own.append(toStreamName('Widget', 'a-1'), deposit(1));
    await own.append(toStreamName('Widget', 'b-2'), deposit(1));
    await own.append(toStreamName('Gadget', 'c'), deposit(1));
    await own.writeSnapshot(toStreamName('Widget', 'a-1'), { state: {}, version: 1, schemaVersion: 1 });
    const names: string[] = [];
    for await (const name of own.streamNames('Widget')) names.push(name);
    expect(names.sort()).toEqual(['Widget-a-1', 'Widget-b-2']);

    expect(await own.deleteStream('Widget-a-1')).toBe(true);
    expect(
      await redis.exists(own.keys.stream('Widget-a-1'), own.keys.meta('Widget-a-1'), own.keys.snapshot('Widget-a-1')),
    ).toBe(0);
    expect(await own.version('Widget-a-1')).toBe(0);
  });

  it('refuses stream names that would break the key layout', () => {
    expect(() => toStreamName('Acc-ount', '1')).toThrow(/aggregate type "Acc-ount" is not allowed/);
    expect(() => store.keys.stream('Acc-{x}')).toThrow(/is not allowed/);
  });
});
