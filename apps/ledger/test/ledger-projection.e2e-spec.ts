import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { MoneyDeposited } from '@app/contracts';
import { EventBusCore, EventPublisher } from '@nest-streams/event-bus';
import { EventStore } from '@nest-streams/event-store';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testNamespace, testRedisClient, waitFor } from '../../../test/support/redis';
import { groupCaughtUp, readEvents } from '../../../test/support/streams';
import { accountStream } from '../src/domain/account.decider';
import type { AccountEvent } from '../src/domain/account.events';
import { BalancesReadModel } from '../src/balances/balances.read-model';
import { LedgerModule } from '@app/ledger';
import { seededRandom } from '../../../test/support/seeded-random';

interface Row {
  accountId: string;
  owner: string;
  balance: number;
  accountVersion: number;
  updatedAt: string;
}

/** The balances projection (group ledger-balances) and the integration events it is fed with. */
describe('ledger balances projection (real Redis)', () => {
  let app: INestApplication;
  let namespace: string;
  let redis: Redis;
  let store: EventStore;

  const http = () => request(app.getHttpServer());
  const open = async (owner: string): Promise<string> =>
    (await http().post('/accounts').send({ owner }).expect(201)).body.id;
  const caughtUp = () =>
    waitFor('ledger-balances caught up', () => groupCaughtUp(redis, namespace, 'accounts', 'ledger-balances'));
  const projection = async (): Promise<Row[]> => (await http().get('/accounts').expect(200)).body;
  /** What the projection should hold: each account's state from its own events. */
  const aggregates = async (ids: string[]): Promise<Row[]> => {
    const rows = await Promise.all(
      ids.map(async (id) => {
        const a = (await http().get(`/accounts/${id}`).expect(200)).body;
        return {
          accountId: a.id,
          owner: a.owner,
          balance: a.balance,
          accountVersion: a.version,
          updatedAt: a.updatedAt,
        };
      }),
    );
    return rows.sort((x, y) => (x.accountId < y.accountId ? -1 : 1));
  };

  beforeAll(async () => {
    redis = testRedisClient();
    namespace = testNamespace('ledger-proj');
    ({ app } = await createTestPlatformApp([LedgerModule], { namespace }));
    store = new EventStore(redis, { namespace });
  });
  afterAll(async () => {
    await app?.close();
    await redis.quit();
  });

  it('publishes fat integration events with deterministic ids after each append', async () => {
    const id = (await http().post('/accounts').set('x-correlation-id', 'flow-42').send({ owner: 'Ada' }).expect(201))
      .body.id;
    await http().post(`/accounts/${id}/deposits`).set('x-correlation-id', 'flow-42').send({ amount: 500 }).expect(201);
    await http().post(`/accounts/${id}/withdrawals`).send({ amount: 150 }).expect(201);
    await http().post(`/accounts/${id}/withdrawals`).send({ amount: 1000 }).expect(422);
    const history = (await http().get(`/accounts/${id}/history`).expect(200)).body.events as Array<{ time: string }>;

    const facts = (await readEvents(redis, namespace, 'accounts')).filter((e) => e.subject === id);
    expect(facts.map((e) => [e.id, e.type, e.source])).toEqual([
      [`${id}:1`, 'AccountOpened', 'ledger-service'],
      [`${id}:2`, 'MoneyDeposited', 'ledger-service'],
      [`${id}:3`, 'MoneyWithdrawn', 'ledger-service'],
    ]);
    expect(facts.map((e) => e.data)).toEqual([
      { accountId: id, owner: 'Ada', balance: 0, accountVersion: 1, at: history[0].time },
      { accountId: id, owner: 'Ada', amount: 500, balance: 500, accountVersion: 2, at: history[1].time },
      { accountId: id, owner: 'Ada', amount: 150, balance: 350, accountVersion: 3, at: history[2].time },
    ]);
    expect(facts.map((e) => e.time)).toEqual(history.map((h) => h.time));
    expect(facts.slice(0, 2).map((e) => e.correlationid)).toEqual(['flow-42', 'flow-42']);
  });

  it('matches the aggregates, and a rebuild from scratch reproduces it', async () => {
    const random = seededRandom(7);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await open(`owner-${i}`));
    for (let i = 0; i < 80; i++) {
      const id = ids[Math.floor(random() * ids.length)];
      const amount = Math.round(random() * 30000) / 100;
      const kind = random() < 0.6 ? 'deposits' : 'withdrawals';
      const res = await http().post(`/accounts/${id}/${kind}`).send({ amount });
      expect([201, 422]).toContain(res.status);
    }
    await caughtUp();
    const expected = await aggregates(ids);
    const mine = (rows: Row[]) => rows.filter((r) => ids.includes(r.accountId));
    expect(mine(await projection())).toEqual(expected);

    const status = (await http().get('/accounts/projection/status').expect(200)).body;
    const [last] = await redis.xrevrange(`${namespace}:{accounts}`, '+', '-', 'COUNT', 1);
    expect(status).toMatchObject({
      group: 'ledger-balances',
      stream: 'accounts',
      lastDeliveredId: last[0],
      pending: 0,
    });

    // From scratch: the read model deleted, then rebuilt by replaying every account stream.
    const before = await projection();
    const model = app.get(BalancesReadModel);
    await redis.del(model.keys.rows, model.keys.versions);
    expect(await projection()).toEqual([]);
    const rebuilt = (await http().post('/accounts/projection/rebuild').expect(200)).body;
    const totalEvents = (await Promise.all(before.map((r) => store.version(accountStream(r.accountId))))).reduce(
      (a, b) => a + b,
      0,
    );
    expect(rebuilt).toMatchObject({ accounts: before.length, events: totalEvents, keptFromLive: 0, dropped: 0 });
    expect(await projection()).toEqual(before);

    // A damaged row is repaired by the rebuild too.
    const damaged = { ...expected[0], balance: 123456 };
    await redis.hset(model.keys.rows, damaged.accountId, JSON.stringify(damaged));
    expect(mine(await projection())).not.toEqual(expected);
    await http().post('/accounts/projection/rebuild').expect(200);
    expect(mine(await projection())).toEqual(expected);
  });

  it('applies each fact once and never goes back: replayed or old facts change nothing', async () => {
    const id = await open('Once');
    await http().post(`/accounts/${id}/deposits`).send({ amount: 40 }).expect(201);
    await http().post(`/accounts/${id}/deposits`).send({ amount: 2 }).expect(201);
    await caughtUp();
    const row = (await projection()).find((r) => r.accountId === id);
    expect(row).toMatchObject({ balance: 42, accountVersion: 3 });

    const publisher = new EventPublisher(app.get(EventBusCore), 'ledger-service');
    const old = new MoneyDeposited({
      accountId: id,
      owner: 'Once',
      amount: 40,
      balance: 40,
      accountVersion: 2,
      at: row!.updatedAt,
    });
    await publisher.publish(old, { id: `${id}:2` });
    await publisher.publish(old);
    await caughtUp();
    expect((await projection()).find((r) => r.accountId === id)).toEqual(row);
    await publisher.publish(
      new MoneyDeposited({ ...old, balance: 42, amount: 2, accountVersion: 3, at: new Date().toISOString() }),
    );
    await caughtUp();
    expect((await projection()).find((r) => r.accountId === id)).toEqual(row);
  });

  it('a crash between the append and the publish is caught up: at the next start, and by the next command', async () => {
    const quiet = await open('Crash');
    const busy = await open('Crash too');
    // The process "dies" right after appending: the events are recorded, nothing was published.
    await store.append<AccountEvent>(
      accountStream(quiet),
      { type: 'MoneyDeposited', data: { amount: 70 } },
      { expectedVersion: 1 },
    );
    await store.append<AccountEvent>(
      accountStream(busy),
      { type: 'MoneyDeposited', data: { amount: 5 } },
      { expectedVersion: 1 },
    );
    await caughtUp();
    expect((await projection()).find((r) => r.accountId === quiet)).toMatchObject({ balance: 0, accountVersion: 1 });

    // The next command on an account publishes what was left behind along with its own facts.
    await http().post(`/accounts/${busy}/deposits`).send({ amount: 1 }).expect(201);
    await caughtUp();
    expect((await projection()).find((r) => r.accountId === busy)).toMatchObject({ balance: 6, accountVersion: 3 });

    // A restart publishes the rest.
    await app.close();
    ({ app } = await createTestPlatformApp([LedgerModule], { namespace }));
    await caughtUp();
    expect((await projection()).find((r) => r.accountId === quiet)).toMatchObject({ balance: 70, accountVersion: 2 });
    const facts = (await readEvents(redis, namespace, 'accounts'))
      .filter((e) => e.subject === quiet || e.subject === busy)
      .map((e) => e.id);
    expect(facts.sort()).toEqual([`${busy}:1`, `${busy}:2`, `${busy}:3`, `${quiet}:1`, `${quiet}:2`].sort());
  });

  it('swapping a rebuilt model in keeps live rows newer than what the rebuild read', async () => {
    const model = app.get(BalancesReadModel);
    const row = (accountId: string, accountVersion: number, balance: number): Row => ({
      accountId,
      owner: 'o',
      balance,
      accountVersion,
      updatedAt: '2025-01-01T00:00:00.000Z',
    });
    const write = async (keys: { rows: string; versions: string }, rows: Row[]) => {
      const tx = redis.multi();
      for (const r of rows) model.apply(tx, r, keys);
      await tx.exec();
    };
    await redis.del(model.keys.rows, model.keys.versions);
    // Live: A moved to v3 and B was opened while the rebuild ran; C is damaged at the version the rebuild saw.
    await write(model.keys, [row('A', 3, 30), row('B', 1, 0), row('C', 2, 999)]);
    const rebuilt = model.rebuildKeys('test');
    await write(rebuilt, [row('A', 2, 20), row('C', 2, 5), row('D', 4, 7)]);
    expect(await model.swapIn(rebuilt)).toBe(2);
    expect(await model.list()).toEqual([row('A', 3, 30), row('B', 1, 0), row('C', 2, 5), row('D', 4, 7)]);
    expect(await redis.exists(rebuilt.rows, rebuilt.versions)).toBe(0);
    expect(await redis.hgetall(model.keys.versions)).toEqual({ A: '3', B: '1', C: '2', D: '4' });

    // A full rebuild drops rows of accounts the event store has never seen.
    const full = (await http().post('/accounts/projection/rebuild').expect(200)).body;
    expect(full.dropped).toBe(4);
    expect((await model.list()).map((r) => r.accountId).filter((a) => a.length === 1)).toEqual([]);
  });

  it('a rebuild while commands keep coming loses nothing', async () => {
    const ids = [await open('R1'), await open('R2'), await open('R3')];
    const traffic = (async () => {
      for (let i = 0; i < 45; i++)
        await http()
          .post(`/accounts/${ids[i % 3]}/deposits`)
          .send({ amount: 1 })
          .expect(201);
    })();
    const rebuilds = (async () => {
      for (let i = 0; i < 5; i++) await http().post('/accounts/projection/rebuild').expect(200);
    })();
    await Promise.all([traffic, rebuilds]);
    await caughtUp();
    const rows = (await projection()).filter((r) => ids.includes(r.accountId));
    expect(rows).toEqual(await aggregates(ids));
    expect(rows.map((r) => r.balance)).toEqual([15, 15, 15]);
  });
});
