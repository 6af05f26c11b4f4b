import type Redis from 'ioredis';
import { ConcurrencyError, Decider, EventStore, handleCommand, toStreamName } from '@nest-streams/event-store';
import { testNamespace, testRedisClient } from '../../../test/support/redis';
import { TallyCommand, tallyDecider, TallyEvent, TallyState } from './fixtures/tally.decider';

class LimitExceeded extends Error {}

describe('handleCommand (real Redis)', () => {
  let redis: Redis;
  let store: EventStore;
  let n = 0;
  const stream = () => toStreamName('Tally', `c${++n}`);

  beforeAll(() => {
    redis = testRedisClient();
    store = new EventStore(redis, { namespace: testNamespace('es-cmd') });
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('loads, decides and appends with the loaded version; returns the state before and after', async () => {
    const name = stream();
    const decider = tallyDecider();
    await handleCommand(store, name, decider, { type: 'Add', amount: 5 });
    const result = await handleCommand(
      store,
      name,
      decider,
      { type: 'AddMany', amounts: [1, 2] },
      { metadata: { correlationId: 'c-1' } },
    );
    expect(result).toMatchObject({
      version: 3,
      attempts: 1,
      previous: { version: 1, state: { total: 5 } },
      state: { total: 8, count: 3 },
    });
    expect(result.events.map((e) => [e.version, e.metadata.correlationId])).toEqual([
      [2, 'c-1'],
      [3, 'c-1'],
    ]);
    const nothing = await handleCommand(store, name, decider, { type: 'Nothing' });
    expect(nothing).toMatchObject({ version: 3, events: [] });
    expect(await store.version(name)).toBe(3);
  });

  it('lets domain errors from decide through, appending nothing', async () => {
    const name = stream();
    const base = tallyDecider();
    const capped: Decider<TallyState, TallyCommand, TallyEvent> = {
      ...base,
      decide: (command, state) => {
        if (command.type === 'Add' && state.total + command.amount > 10)
          throw new LimitExceeded(`total would be ${state.total + command.amount}`);
        return base.decide(command, state);
      },
    };
    await handleCommand(store, name, capped, { type: 'Add', amount: 7 });
    await expect(handleCommand(store, name, capped, { type: 'Add', amount: 7 })).rejects.toThrow(LimitExceeded);
    expect(await store.version(name)).toBe(1);
  });

  it('retries conflicting writers until each command went through once', async () => {
    const name = stream();
    const decider = tallyDecider();
    const clients = Array.from({ length: 8 }, () => testRedisClient());
    try {
      const results = await Promise.all(
        clients.map((client, i) =>
          handleCommand(
            new EventStore(client, { namespace: store.keys.namespace }),
            name,
            decider,
            { type: 'Add', amount: i + 1 },
            { retries: 30 },
          ),
        ),
      );
      expect((await store.load(name, decider)).state).toMatchObject({ total: 36, count: 8 });
      expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(Math.max(...results.map((r) => r.attempts))).toBeGreaterThan(1);
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  it('gives up with ConcurrencyError when the conflict survives every retry', async () => {
    const name = stream();
    const base = tallyDecider();
    let decisions = 0;
    // NOTE: another writer lands between every load and append (its append is sent first on the same connection).
    const contested: Decider<TallyState, TallyCommand, TallyEvent> = {
      ...base,
      decide: (command, state) => {
        decisions++;
        void store.append(name, { type: 'Tagged', data: { tag: 'sneaky' } });
        return base.decide(command, state);
      },
    };
    const error = await handleCommand(
      store,
      name,
      contested,
      { type: 'Add', amount: 1 },
      { retries: 2, retryDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(decisions).toBe(3);
    expect((await store.load(name, base)).state).toMatchObject({
      total: 0,
      count: 3,
      lastTags: ['sneaky', 'sneaky', 'sneaky'],
    });
  });

  it('does not retry when the caller gave the expected version: a stale view is the caller to resolve', async () => {
    const name = stream();
    const decider = tallyDecider();
    await handleCommand(store, name, decider, { type: 'Add', amount: 1 });
    await handleCommand(store, name, decider, { type: 'Add', amount: 1 });
    const stale = await handleCommand(store, name, decider, { type: 'Add', amount: 1 }, { expectedVersion: 1 }).catch(
      (e: unknown) => e,
    );
    expect(stale).toMatchObject({ name: 'ConcurrencyError', expectedVersion: 1, actualVersion: 2 });
    const fresh = await handleCommand(store, name, decider, { type: 'Add', amount: 1 }, { expectedVersion: 2 });
    expect(fresh.version).toBe(3);
    await expect(
      handleCommand(store, name, decider, { type: 'Add', amount: 1 }, { expectedVersion: 'no-stream' }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(
      (await handleCommand(store, stream(), decider, { type: 'Add', amount: 1 }, { expectedVersion: 'no-stream' }))
        .version,
    ).toBe(1);
  });
});
