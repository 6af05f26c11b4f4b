import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { EventStore } from '@nest-streams/event-store';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testNamespace, testRedisClient } from '../../../test/support/redis';
import { accountStream } from '../src/domain/account.decider';
import { LedgerModule } from '@app/ledger';

/** The ledger through HTTP, as a client uses it, against the run's redis-server. */
describe('ledger service (real Redis)', () => {
  let app: INestApplication;
  let namespace: string;
  let redis: Redis;

  const http = () => request(app.getHttpServer());
  const open = async (owner = 'Ada Lovelace'): Promise<string> =>
    (await http().post('/accounts').send({ owner }).expect(201)).body.id;
  const move = (id: string, kind: 'deposits' | 'withdrawals', amount: number, expectedVersion?: number) =>
    http()
      .post(`/accounts/${id}/${kind}`)
      .send(expectedVersion === undefined ? { amount } : { amount, expectedVersion });

  beforeAll(async () => {
    redis = testRedisClient();
    namespace = testNamespace('ledger');
    ({ app } = await createTestPlatformApp([LedgerModule], { namespace }));
  });
  afterAll(async () => {
    await app?.close();
    await redis.quit();
  });

  it('0, +500, -150, +100, -250 gives a balance of 200, live and after a restart', async () => {
    const created = await http().post('/accounts').send({ owner: 'Ada Lovelace' }).expect(201);
    expect(created.body).toMatchObject({ owner: 'Ada Lovelace', balance: 0, version: 1 });
    const id: string = created.body.id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await move(id, 'deposits', 500).expect(201)).body).toMatchObject({ id, balance: 500, version: 2 });
    expect((await move(id, 'withdrawals', 150).expect(201)).body).toMatchObject({ balance: 350, version: 3 });
    expect((await move(id, 'deposits', 100).expect(201)).body).toMatchObject({ balance: 450, version: 4 });
    expect((await move(id, 'withdrawals', 250).expect(201)).body).toMatchObject({ balance: 200, version: 5 });

    const live = (await http().get(`/accounts/${id}`).expect(200)).body;
    expect(live).toEqual({
      id,
      owner: 'Ada Lovelace',
      balance: 200,
      version: 5,
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    await app.close();
    ({ app } = await createTestPlatformApp([LedgerModule], { namespace }));
    expect((await http().get(`/accounts/${id}`).expect(200)).body).toEqual(live);
    expect((await move(id, 'deposits', 0.5).expect(201)).body).toMatchObject({ balance: 200.5, version: 6 });
  });

  it('lists every event of an account with its version and time', async () => {
    const id = await open('Grace Hopper');
    await move(id, 'deposits', 70).expect(201);
    await move(id, 'withdrawals', 20).expect(201);
    const history = (
      await http().get(`/accounts/${id}/history`).set('x-correlation-id', 'ignored-for-reads').expect(200)
    ).body;
    expect(history.id).toBe(id);
    expect(
      history.events.map((e: { version: number; type: string; data: object }) => [e.version, e.type, e.data]),
    ).toEqual([
      [1, 'AccountOpened', { accountId: id, owner: 'Grace Hopper' }],
      [2, 'MoneyDeposited', { amount: 70 }],
      [3, 'MoneyWithdrawn', { amount: 20 }],
    ]);
    for (const e of history.events) {
      expect(new Date(e.time).toISOString()).toBe(e.time);
      expect(e.metadata).toEqual({ correlationId: expect.any(String), causationId: expect.any(String) });
    }
    const times = history.events.map((e: { time: string }) => Date.parse(e.time));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('answers the state as of a version and as of a time', async () => {
    const id = await open();
    for (const [kind, amount] of [
      ['deposits', 500],
      ['withdrawals', 150],
      ['deposits', 100],
      ['withdrawals', 250],
    ] as const) {
      await move(id, kind, amount).expect(201);
      await new Promise((r) => setTimeout(r, 3));
    }
    const balances = [0, 500, 350, 450, 200];
    for (let v = 1; v <= 5; v++) {
      expect((await http().get(`/accounts/${id}`).query({ asOfVersion: v }).expect(200)).body).toMatchObject({
        id,
        version: v,
        balance: balances[v - 1],
      });
    }
    const { events } = (await http().get(`/accounts/${id}/history`).expect(200)).body as {
      events: Array<{ version: number; time: string }>;
    };
    for (const event of events) {
      const expected = Math.max(...events.filter((e) => e.time <= event.time).map((e) => e.version));
      const at = (await http().get(`/accounts/${id}`).query({ asOfTime: event.time }).expect(200)).body;
      expect(at).toMatchObject({
        version: expected,
        balance: balances[expected - 1],
        updatedAt: events[expected - 1].time,
      });
    }
    const before = new Date(Date.parse(events[0].time) - 1000).toISOString();
    expect((await http().get(`/accounts/${id}`).query({ asOfTime: before }).expect(404)).body.message).toMatch(
      /not open yet/,
    );
    expect((await http().get(`/accounts/${id}`).query({ asOfVersion: 9 }).expect(404)).body.message).toMatch(
      /has 5 events, so version 9 does not exist/,
    );
    await http().get(`/accounts/${id}`).query({ asOfVersion: 0 }).expect(404);
    await http().get(`/accounts/${id}`).query({ asOfVersion: 2, asOfTime: events[0].time }).expect(400);
    await http().get(`/accounts/${id}`).query({ asOfVersion: 'three' }).expect(400);
    await http().get(`/accounts/${id}`).query({ asOfTime: 'yesterday' }).expect(400);
  });

  it('refuses to overdraw with 422, naming the balance and the amount requested, and writes nothing', async () => {
    const id = await open();
    await move(id, 'deposits', 200).expect(201);
    const refused = await move(id, 'withdrawals', 250.5).expect(422);
    expect(refused.body).toEqual({
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: `cannot withdraw 250.5 from account ${id}: its balance is 200; withdraw at most 200 or deposit first`,
      accountId: id,
      balance: 200,
      requested: 250.5,
    });
    expect((await http().get(`/accounts/${id}`).expect(200)).body).toMatchObject({ balance: 200, version: 2 });
    expect((await move(id, 'withdrawals', 200).expect(201)).body).toMatchObject({ balance: 0 });
  });

  it('optimistic concurrency from clients: a stale expectedVersion gets 409 and writes nothing', async () => {
    const id = await open();
    await move(id, 'deposits', 10, 1).expect(201);
    const stale = await move(id, 'deposits', 10, 1).expect(409);
    expect(stale.body).toMatchObject({ statusCode: 409, error: 'Conflict', expectedVersion: 1, actualVersion: 2 });
    expect(stale.body.message).toMatch(/reload the state and retry/);
    await move(id, 'withdrawals', 5, 3).expect(409);
    expect((await move(id, 'withdrawals', 5, 2).expect(201)).body).toMatchObject({ balance: 5, version: 3 });
  });

  it('concurrent deposits without expectedVersion all go through once (retried on conflicts)', async () => {
    const id = await open();
    const answers = await Promise.all([1, 2, 3, 4, 5].map((amount) => move(id, 'deposits', amount)));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    expect((await http().get(`/accounts/${id}`).expect(200)).body).toMatchObject({ balance: 15, version: 6 });
  });

  it('answers 404 for an account that does not exist, and 400 for bad input', async () => {
    for (const id of ['3f9c7c52-0000-4000-8000-000000000000', 'no such thing', '{x}']) {
      const missing = await http()
        .get(`/accounts/${encodeURIComponent(id)}`)
        .expect(404);
      expect(missing.body).toMatchObject({ statusCode: 404, message: expect.stringMatching(/does not exist/) });
      await http()
        .get(`/accounts/${encodeURIComponent(id)}/history`)
        .expect(404);
      await move(encodeURIComponent(id), 'deposits', 5).expect(404);
    }
    const id = await open();
    for (const amount of [0, -5, 1.234, '12']) await move(id, 'deposits', amount as number).expect(400);
    await http().post(`/accounts/${id}/deposits`).send({ amount: 5, expectedVersion: -1 }).expect(400);
    await http().post('/accounts').send({}).expect(400);
    await http().post('/accounts').send({ owner: '' }).expect(400);
    expect((await http().get(`/accounts/${id}`).expect(200)).body.version).toBe(1);
  });

  it('snapshots long accounts next to their stream and loads them from the snapshot', async () => {
    const id = await open();
    for (let i = 0; i < 60; i++) await move(id, 'deposits', 1.25).expect(201);
    const store = new EventStore(redis, { namespace });
    const snapshot = await store.readSnapshot(accountStream(id));
    expect(snapshot).toMatchObject({
      version: 50,
      schemaVersion: 1,
      state: { status: 'open', accountId: id, balance: 61.25 },
    });
    expect(
      await redis.exists(
        `${namespace}:es:{Account-${id}}`,
        `${namespace}:es:{Account-${id}}:meta`,
        `${namespace}:es:{Account-${id}}:snapshot`,
      ),
    ).toBe(3);
    expect((await http().get(`/accounts/${id}`).expect(200)).body).toMatchObject({ balance: 75, version: 61 });
  });

  it('documents every route in Swagger, with examples', async () => {
    const doc = (await http().get('/docs-json').expect(200)).body;
    for (const path of [
      '/accounts',
      '/accounts/{id}',
      '/accounts/{id}/history',
      '/accounts/{id}/deposits',
      '/accounts/{id}/withdrawals',
      '/accounts/projection/rebuild',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(Object.keys(doc.paths['/accounts/{id}/withdrawals'].post.responses).sort()).toEqual([
      '201',
      '400',
      '404',
      '409',
      '422',
    ]);
    expect(doc.components.schemas.InsufficientFundsDto.properties.balance.example).toBe(200);
    expect(doc.components.schemas.MoneyDto.properties.amount.example).toBe(500);
  });
});
