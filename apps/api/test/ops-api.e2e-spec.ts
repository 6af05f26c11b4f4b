import { Injectable, Module } from '@nestjs/common';
import { IsInt, IsString } from 'class-validator';
import type Redis from 'ioredis';
import request from 'supertest';
import { EventBusModule, EventContract, EventContext, Subscribe } from '@nest-streams/event-bus';
import { describeIf, testKeys, testPartitions, testRedisClient, waitFor } from '../../../test/support/redis';
import { groupCaughtUp, xaddEvent } from '../../../test/support/streams';
import { createOpsTestApp, OpsTestApp, OPERATOR_KEY } from './support/ops-app';
import { expectOpsError, namespaceSnapshot, opsClient, sleep } from './support/ops-client';

/** A test-only contract on a stream of its own, and a group that records what it handles. */
@EventContract({ type: 'OpsProbed', version: 1, stream: 'ops-probe', subjectField: 'label' })
class OpsProbed {
  @IsString()
  label!: string;

  @IsInt()
  n!: number;
}

const handled: Array<{ n: number; replay: boolean }> = [];

@Injectable()
class ProbeHandlers {
  @Subscribe(OpsProbed)
  async record(event: OpsProbed, ctx: EventContext): Promise<void> {
    handled.push({ n: event.n, replay: ctx.replay });
  }
}

@Module({
  // NOTE: dedupe off, so a delivery repeated by a position move runs the handler again and is counted.
  imports: [EventBusModule.forFeature({ group: 'ops-probe', consumer: { dedupe: { enabled: false } } })],
  providers: [ProbeHandlers],
})
class ProbeModule {}

/** The operations API (/ops) of the platform app: real HTTP, the run's Redis (standalone or cluster), the whole AppModule. */
describeIf(testPartitions() === 1, 'drives the operations API with entry ids of the unpartitioned stream keys')(
  'operations API',
  () => {
    let platform: OpsTestApp;
    let redis: Redis;
    let ops: ReturnType<typeof opsClient>;
    let ns: string;
    const probeKey = (): string => testKeys(ns).stream('ops-probe');

    /** XADDs probe events n = from..to (subject alternating a/b), one by one, returning their entry ids. */
    async function addProbes(from: number, to: number): Promise<string[]> {
      const ids: string[] = [];
      for (let n = from; n <= to; n++) {
        await xaddEvent(redis, ns, {
          stream: 'ops-probe',
          type: 'OpsProbed',
          data: { label: n % 2 ? 'a' : 'b', n },
          subject: n % 2 ? 'a' : 'b',
        });
        const [last] = await redis.xrevrange(probeKey(), '+', '-', 'COUNT', 1);
        ids.push(last[0]);
      }
      return ids;
    }

    beforeAll(async () => {
      platform = await createOpsTestApp({ extra: [ProbeModule], env: { OPS_RATE_LIMIT: '100000' } });
      ns = platform.namespace;
      ops = opsClient(platform.url);
      redis = testRedisClient();
    });

    afterAll(async () => {
      await platform?.app.close();
      redis?.disconnect();
    });

    describe('security', () => {
      it('answers 401 without a key or with an unknown one, in the one error shape', async () => {
        const none = await ops.get('/ops/streams', 'none').expect(401);
        expectOpsError(none.body, 401);
        expect(none.body.message).toContain('x-api-key');
        const unknown = await request(platform.url)
          .get('/ops/streams')
          .set('x-api-key', 'not-a-key-0123456789')
          .expect(401);
        expectOpsError(unknown.body, 401);
        expect(unknown.body.message).toContain('unknown API key');
      });

      it('lets a reader read and refuses it every change (403), which then does not happen', async () => {
        await ops.get('/ops/streams', 'reader').expect(200);
        await ops.get('/ops/replays', 'reader').expect(200);
        const denied = await ops
          .post('/ops/streams/ops-probe/groups', { group: 'by-reader', startFrom: 'end' }, 'reader')
          .expect(403);
        expectOpsError(denied.body, 403);
        expect(denied.body.message).toContain('operator');
        for (const [method, path] of [
          ['put', '/ops/streams/ops-probe/retention'],
          ['post', '/ops/streams/ops-probe/trim'],
          ['post', '/ops/events'],
          ['post', '/ops/replays'],
          ['post', '/ops/streams/ops-probe/dead-letters/purge'],
          ['delete', '/ops/streams/ops-probe/groups/ops-probe/consumers/x'],
        ] as const) {
          const res =
            method === 'delete' ? await ops.delete(path, 'reader') : await ops[method](path, { all: true }, 'reader');
          expect([path, res.status]).toEqual([path, 403]);
        }
        const groups = await ops.get('/ops/streams/ops-probe/groups').expect(200);
        expect(groups.body.map((g: { group: string }) => g.group)).not.toContain('by-reader');
      });

      it('lets an operator read too, and keeps the shop endpoints open without keys', async () => {
        await ops.get('/ops/streams', 'operator').expect(200);
        await request(platform.url).get('/inventory').expect(200);
        await request(platform.url).get('/events/types').expect(200);
      });

      it('sends helmet security headers', async () => {
        for (const path of ['/ops/streams', '/inventory']) {
          const res = await ops.get(path);
          expect(res.headers['x-content-type-options']).toBe('nosniff');
          expect(res.headers['content-security-policy']).toContain("default-src 'self'");
          expect(res.headers['x-powered-by']).toBeUndefined();
        }
      });

      it('answers 413 in the JSON error shape for a body over the limit, 400 for one that is not JSON', async () => {
        const big = { type: 'OpsProbed', data: { label: 'x'.repeat(150_000), n: 1 } };
        const tooLarge = await ops.post('/ops/events', big).expect(413);
        expectOpsError(tooLarge.body, 413);
        expect(tooLarge.body.message).toContain('100kb');
        await request(platform.url).post('/orders').send(big).expect(413);
        const broken = await request(platform.url)
          .post('/ops/events')
          .set('x-api-key', OPERATOR_KEY)
          .set('content-type', 'application/json')
          .send('{"type":')
          .expect(400);
        expectOpsError(broken.body, 400);
        expect(await redis.xlen(probeKey())).toBe(0);
      });

      it.each([
        ['*', 400],
        ['%2E%2E', 404],
        ['a%0d%0ab', 400],
        [encodeURIComponent('eb:{orders}'), 400],
        ['foo', 404],
        ['orders%20', 400],
        ['orders:dlq', 404],
      ])('refuses the stream name %s (%i) on every route and touches nothing', async (name, status) => {
        await xaddEvent(redis, ns, { stream: 'ops-probe', type: 'OpsProbed', data: { label: 'safety', n: 0 } });
        await waitFor('probe handled', () => handled.some((h) => h.n === 0));
        // NOTE: and indexed for the flow view (group flow-index), which writes keys of its own.
        await waitFor('probe indexed', () => groupCaughtUp(redis, ns, 'ops-probe', 'flow-index'));
        await sleep(50);
        const before = await namespaceSnapshot(redis, ns);
        const attempts = [
          ops.get(`/ops/streams/${name}/entries`),
          ops.get(`/ops/streams/${name}/entries/1-0`),
          ops.get(`/ops/streams/${name}/groups`),
          ops.post(`/ops/streams/${name}/groups`, { group: 'g', startFrom: 'beginning' }),
          ops.post(`/ops/streams/${name}/groups/g/position`, { id: '0-0', confirm: true }),
          ops.get(`/ops/streams/${name}/groups/g/pending`),
          ops.post(`/ops/streams/${name}/groups/g/pending/1-0/ack`),
          ops.delete(`/ops/streams/${name}/groups/g/consumers/c`),
          ops.get(`/ops/streams/${name}/dead-letters`),
          ops.post(`/ops/streams/${name}/dead-letters/purge`, { all: true }),
          ops.post(`/ops/streams/${name}/dead-letters/redrive`, { all: true }),
          ops.get(`/ops/streams/${name}/retention`),
          ops.put(`/ops/streams/${name}/retention`, { maxLength: 1 }),
          ops.post(`/ops/streams/${name}/trim`, { force: true }),
        ];
        const results = await Promise.all(attempts);
        results.forEach((res, route) => {
          expect([route, res.status]).toEqual([route, status]);
          expectOpsError(res.body, status);
        });
        const replay = await ops.post('/ops/replays', {
          stream: decodeURIComponent(name),
          target: { kind: 'new-group', group: 'g' },
        });
        expect([400, 404]).toContain(replay.status);
        expectOpsError(replay.body, replay.status);
        expect(await namespaceSnapshot(redis, ns)).toEqual(before);
      });

      it('refuses malformed group, consumer and entry id parameters with 400', async () => {
        for (const path of [
          '/ops/streams/ops-probe/groups/a%20b/pending',
          '/ops/streams/ops-probe/groups/%2A/pending',
          '/ops/streams/ops-probe/entries/abc',
          '/ops/streams/ops-probe/entries/1-0%0d%0a',
        ]) {
          const res = await ops.get(path).expect(400);
          expectOpsError(res.body, 400);
        }
        await ops.delete('/ops/streams/ops-probe/groups/ops-probe/consumers/x%7Dy').expect(400);
      });

      it('documents every /ops operation with a summary and the api-key scheme', async () => {
        const doc = (await request(platform.url).get('/docs-json').expect(200)).body;
        expect(doc.components.securitySchemes['api-key']).toEqual({ type: 'apiKey', in: 'header', name: 'x-api-key' });
        const opsPaths = Object.entries(
          doc.paths as Record<string, Record<string, { summary?: string; security?: unknown[]; responses: object }>>,
        ).filter(([p]) => p.startsWith('/ops'));
        expect(opsPaths.length).toBeGreaterThanOrEqual(15);
        for (const [path, methods] of opsPaths) {
          for (const [method, op] of Object.entries(methods)) {
            expect([path, method, typeof op.summary]).toEqual([path, method, 'string']);
            expect(op.security).toEqual([{ 'api-key': [] }]);
            expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
          }
        }
        expect(doc.components.schemas.StartReplayDto.properties.target).toBeDefined();
        expect(doc.components.schemas.StreamSummaryDto.properties.deadLetters.example).toBeDefined();
      });
    });

    describe('streams and entries', () => {
      let ids: string[];

      beforeAll(async () => {
        await redis.del(probeKey());
        await redis.xgroup('CREATE', probeKey(), 'ops-probe', '$', 'MKSTREAM').catch(() => undefined);
        // NOTE: the flow view's indexer notices the deleted stream and creates its group flow-index again.
        await waitFor('flow-index group recreated', async () =>
          ((await redis.xinfo('GROUPS', probeKey())) as string[][]).some((g) => g[1] === 'flow-index'),
        );
        ids = await addProbes(1, 30);
        // a contract breaker: listed like the others, fields it lacks are null
        await redis.xadd(probeKey(), '*', 'type', 'Garbage', 'data', 'not json');
        ids.push((await redis.xrevrange(probeKey(), '+', '-', 'COUNT', 1))[0][0]);
        await waitFor('probes handled', () => handled.filter((h) => h.n >= 1).length >= 30);
      });

      it('lists every registered stream with length, ends, groups, retention and dead letters', async () => {
        const res = await ops.get('/ops/streams').expect(200);
        const names = res.body.map((s: { stream: string }) => s.stream);
        expect(names).toEqual(expect.arrayContaining(['orders', 'inventory', 'payments', 'ops-probe']));
        const probe = res.body.find((s: { stream: string }) => s.stream === 'ops-probe');
        expect(probe).toEqual({
          stream: 'ops-probe',
          length: 31,
          firstId: ids[0],
          lastId: ids[30],
          firstTime: new Date(Number(ids[0].split('-')[0])).toISOString(),
          lastTime: new Date(Number(ids[30].split('-')[0])).toISOString(),
          groups: 2,
          retention: null,
          deadLetters: expect.any(Number),
        });
      });

      it('pages newest first by default and oldest first on request, every entry exactly once', async () => {
        const first = await ops.get('/ops/streams/ops-probe/entries?count=5').expect(200);
        expect(first.body.entries.map((e: { id: string }) => e.id)).toEqual(ids.slice(-5).reverse());
        expect(first.body.nextCursor).toBe(ids[26]);
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: request.Response = await ops
            .get(`/ops/streams/ops-probe/entries?order=oldest&count=7${cursor ? `&cursor=${cursor}` : ''}`)
            .expect(200);
          seen.push(...page.body.entries.map((e: { id: string }) => e.id));
          cursor = page.body.nextCursor;
        } while (cursor);
        expect(seen).toEqual(ids);
      });

      it('shows an entry as an envelope, and a contract breaker with what it has', async () => {
        const one = await ops.get(`/ops/streams/ops-probe/entries/${ids[2]}`).expect(200);
        expect(one.body).toEqual({
          id: ids[2],
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          type: 'OpsProbed',
          version: 1,
          source: 'test-service',
          subject: 'a',
          eventId: expect.any(String),
          correlationId: null,
          causationId: null,
          data: { label: 'a', n: 3 },
        });
        const garbage = await ops.get(`/ops/streams/ops-probe/entries/${ids[30]}`).expect(200);
        expect(garbage.body).toMatchObject({ type: 'Garbage', data: 'not json', eventId: null, time: null });
        const missing = await ops.get('/ops/streams/ops-probe/entries/1-0').expect(404);
        expectOpsError(missing.body, 404);
      });

      it('filters by type, subject and an id or time range while paging', async () => {
        const garbage = await ops.get('/ops/streams/ops-probe/entries?type=Garbage').expect(200);
        expect(garbage.body).toEqual({ entries: [expect.objectContaining({ id: ids[30] })], nextCursor: null });
        const b = await ops.get('/ops/streams/ops-probe/entries?subject=b&order=oldest&count=4').expect(200);
        expect(b.body.entries.map((e: { data: { n: number } }) => e.data.n)).toEqual([2, 4, 6, 8]);
        const rest = await ops
          .get(`/ops/streams/ops-probe/entries?subject=b&order=oldest&count=100&cursor=${b.body.nextCursor}`)
          .expect(200);
        expect(rest.body.entries.map((e: { data: { n: number } }) => e.data.n)).toEqual([
          10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30,
        ]);
        expect(rest.body.nextCursor).toBeNull();
        const byId = await ops
          .get(`/ops/streams/ops-probe/entries?from=${ids[10]}&to=${ids[12]}&order=oldest`)
          .expect(200);
        expect(byId.body.entries.map((e: { id: string }) => e.id)).toEqual(ids.slice(10, 13));
        const fromTime = new Date(Number(ids[29].split('-')[0])).toISOString();
        const byTime = await ops.get(`/ops/streams/ops-probe/entries?from=${fromTime}`).expect(200);
        expect(byTime.body.entries.map((e: { id: string }) => e.id)).toEqual(
          expect.arrayContaining([ids[30], ids[29]]),
        );
        expect(byTime.body.entries.map((e: { id: string }) => e.id)).not.toContain(ids[0]);
      });

      it('validates the listing query, listing each bad field', async () => {
        const res = await ops
          .get('/ops/streams/ops-probe/entries?count=0&order=sideways&from=yesterday&colour=red')
          .expect(400);
        expectOpsError(res.body, 400);
        expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
          'colour',
          'count',
          'from',
          'order',
        ]);
        const cursor = await ops.get('/ops/streams/ops-probe/entries?cursor=%2B').expect(400);
        expect(cursor.body.details[0].field).toBe('cursor');
      });
    });

    describe('consumer groups and pending entries', () => {
      let ids: string[];

      beforeAll(async () => {
        ids = (await redis.xrange(probeKey(), '-', '+')).map(([id]) => id);
      });

      it("lists a group's lag, pending entries, position and consumers", async () => {
        const probeGroup = (body: Array<{ group: string; lag?: number; pending?: number }>) =>
          body.filter((g) => g.group !== 'flow-index');
        await waitFor('probe group caught up', async () => {
          const res = await ops.get('/ops/streams/ops-probe/groups');
          const [probe] = probeGroup(res.body);
          return probe?.lag === 0 && probe?.pending === 0;
        });
        const res = await ops.get('/ops/streams/ops-probe/groups').expect(200);
        expect(res.body.map((g: { group: string }) => g.group).sort()).toEqual(['flow-index', 'ops-probe']);
        expect(probeGroup(res.body)).toEqual([
          {
            group: 'ops-probe',
            lag: 0,
            pending: 0,
            lastDeliveredId: ids[ids.length - 1],
            consumers: [{ name: expect.any(String), idleMs: expect.any(Number), pending: 0 }],
          },
        ]);
      });

      it('creates a group at the beginning, the end or after an id; 409 when it exists', async () => {
        const created = await ops
          .post('/ops/streams/ops-probe/groups', { group: 'manual', startFrom: 'beginning' })
          .expect(201);
        expect(created.body).toEqual({ stream: 'ops-probe', group: 'manual', lastDeliveredId: '0-0' });
        const atEnd = await ops
          .post('/ops/streams/ops-probe/groups', { group: 'at-end', startFrom: 'end' })
          .expect(201);
        expect(atEnd.body.lastDeliveredId).toBe(ids[ids.length - 1]);
        const afterId = await ops
          .post('/ops/streams/ops-probe/groups', { group: 'after-id', startFrom: ids[5] })
          .expect(201);
        expect(afterId.body.lastDeliveredId).toBe(ids[5]);
        const again = await ops
          .post('/ops/streams/ops-probe/groups', { group: 'manual', startFrom: 'end' })
          .expect(409);
        expectOpsError(again.body, 409);
        const bad = await ops
          .post('/ops/streams/ops-probe/groups', { group: 'a b', startFrom: 'tomorrow', extra: 1 })
          .expect(400);
        expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['extra', 'group', 'startFrom']);
      });

      it('lists, claims, acknowledges and dead-letters pending entries', async () => {
        await redis.xreadgroup('GROUP', 'manual', 'c1', 'COUNT', 3, 'STREAMS', probeKey(), '>');
        const pending = await ops.get('/ops/streams/ops-probe/groups/manual/pending').expect(200);
        expect(pending.body).toEqual(
          ids.slice(0, 3).map((id) => ({ id, consumer: 'c1', idleMs: expect.any(Number), deliveries: 1 })),
        );
        expect((await ops.get('/ops/streams/ops-probe/groups/manual/pending?count=2').expect(200)).body).toHaveLength(
          2,
        );
        expect((await ops.get('/ops/streams/ops-probe/groups/manual/pending?consumer=c2').expect(200)).body).toEqual(
          [],
        );

        const claimed = await ops
          .post(`/ops/streams/ops-probe/groups/manual/pending/${ids[0]}/claim`, { consumer: 'c2' })
          .expect(200);
        expect(claimed.body).toEqual({ id: ids[0], outcome: 'claimed', consumer: 'c2' });
        expect(
          (await ops.get('/ops/streams/ops-probe/groups/manual/pending?consumer=c2').expect(200)).body.map(
            (p: { id: string }) => p.id,
          ),
        ).toEqual([ids[0]]);

        await ops
          .post(`/ops/streams/ops-probe/groups/manual/pending/${ids[1]}/ack`)
          .expect(200, { id: ids[1], outcome: 'acknowledged' });
        expectOpsError(
          (await ops.post(`/ops/streams/ops-probe/groups/manual/pending/${ids[1]}/ack`).expect(404)).body,
          404,
        );

        const dead = await ops
          .post(`/ops/streams/ops-probe/groups/manual/pending/${ids[2]}/dead-letter`, { reason: 'ops-test' })
          .expect(200);
        expect(dead.body).toEqual({ id: ids[2], outcome: 'dead-lettered', deadLetterId: expect.any(String) });
        const [letter] = await redis.xrange(`${probeKey()}:dlq`, dead.body.deadLetterId, dead.body.deadLetterId);
        const fields = Object.fromEntries(letter[1].flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]]])));
        expect(fields).toMatchObject({
          reason: 'ops-test',
          stream: 'ops-probe',
          entryid: ids[2],
          group: 'manual',
          consumer: 'c1',
          handler: 'ops-api',
          attempts: '1',
          type: 'OpsProbed',
        });
        expect(JSON.parse(fields.envelope)).toMatchObject({ type: 'OpsProbed', specversion: '1.0' });
        expect(
          (await ops.get('/ops/streams/ops-probe/groups/manual/pending').expect(200)).body.map(
            (p: { id: string }) => p.id,
          ),
        ).toEqual([ids[0]]);

        await ops.post(`/ops/streams/ops-probe/groups/manual/pending/${ids[5]}/claim`, { consumer: 'c2' }).expect(404);
        await ops.post(`/ops/streams/ops-probe/groups/nobody/pending/${ids[0]}/claim`, { consumer: 'c2' }).expect(404);
        await ops.get('/ops/streams/ops-probe/groups/nobody/pending').expect(404);
        const badClaim = await ops
          .post(`/ops/streams/ops-probe/groups/manual/pending/${ids[0]}/claim`, { consumer: '' })
          .expect(400);
        expect(badClaim.body.details[0].field).toBe('consumer');
      });

      it('removes only consumers that own nothing (409 otherwise)', async () => {
        const owns = await ops.delete('/ops/streams/ops-probe/groups/manual/consumers/c2').expect(409);
        expectOpsError(owns.body, 409);
        expect(owns.body.message).toContain('1 pending');
        await ops.delete('/ops/streams/ops-probe/groups/manual/consumers/c1').expect(204);
        await ops.delete('/ops/streams/ops-probe/groups/manual/consumers/c1').expect(404);
        const groups = await ops.get('/ops/streams/ops-probe/groups').expect(200);
        const manual = groups.body.find((g: { group: string }) => g.group === 'manual');
        expect(manual.consumers.map((c: { name: string }) => c.name)).toEqual(['c2']);
        expect(manual.pending).toBe(1);
      });
    });

    describe('dead letters', () => {
      it('lists them by group, reason and type', async () => {
        const all = await ops.get('/ops/streams/ops-probe/dead-letters?group=manual').expect(200);
        expect(all.body).toEqual([
          expect.objectContaining({
            reason: 'ops-test',
            group: 'manual',
            type: 'OpsProbed',
            handler: 'ops-api',
            envelope: expect.objectContaining({ type: 'OpsProbed' }),
          }),
        ]);
        expect((await ops.get('/ops/streams/ops-probe/dead-letters?reason=nothing-like-it').expect(200)).body).toEqual(
          [],
        );
        const bad = await ops.get('/ops/streams/ops-probe/dead-letters?count=5000&after=x').expect(400);
        expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['after', 'count']);
      });

      it('refuses to redrive or purge without a selection, then redrives to the failed group only', async () => {
        const refused = await ops.post('/ops/streams/ops-probe/dead-letters/redrive', {}).expect(400);
        expectOpsError(refused.body, 400);
        expect(refused.body.message).toContain('all');
        await ops.post('/ops/streams/ops-probe/dead-letters/purge', {}).expect(400);
        const before = await redis.xlen(`${probeKey()}:dlq`);
        await ops.post('/ops/streams/ops-probe/dead-letters/redrive', { group: 'manual' }).expect(200, { redriven: 1 });
        expect(await redis.xlen(`${probeKey()}:redrive:manual`)).toBe(1);
        expect(await redis.xlen(`${probeKey()}:dlq`)).toBe(before - 1);
      });

      it('purges what matches', async () => {
        await redis.xreadgroup('GROUP', 'manual', 'c3', 'COUNT', 2, 'STREAMS', probeKey(), '>');
        const pending = (await ops.get('/ops/streams/ops-probe/groups/manual/pending?consumer=c3').expect(200))
          .body as Array<{ id: string }>;
        for (const p of pending)
          await ops.post(`/ops/streams/ops-probe/groups/manual/pending/${p.id}/dead-letter`).expect(200);
        const letters = (await ops.get('/ops/streams/ops-probe/dead-letters?reason=operator').expect(200))
          .body as Array<{ id: string }>;
        expect(letters).toHaveLength(2);
        await ops
          .post('/ops/streams/ops-probe/dead-letters/purge', { ids: [letters[0].id] })
          .expect(200, { purged: 1 });
        await ops.post('/ops/streams/ops-probe/dead-letters/purge', { reason: 'operator' }).expect(200, { purged: 1 });
        await ops.post('/ops/streams/ops-probe/dead-letters/purge', { ids: ['nope'] }).expect(400);
      });
    });

    describe('moving a group', () => {
      it('re-delivers exactly the entries at or after a time, and only after confirm', async () => {
        const before = await addProbes(101, 105);
        await sleep(30);
        const at = new Date().toISOString();
        await sleep(30);
        const after = await addProbes(106, 110);
        await waitFor('probes 101-110 handled', () => handled.filter((h) => h.n >= 101).length === 10);
        expect(Number(before[4].split('-')[0])).toBeLessThan(Date.parse(at));
        expect(Number(after[0].split('-')[0])).toBeGreaterThan(Date.parse(at));
        handled.length = 0;

        const preview = await ops.post('/ops/streams/ops-probe/groups/ops-probe/position', { time: at }).expect(400);
        expectOpsError(preview.body, 400);
        expect(preview.body.message).toContain('would deliver 5 entries');
        expect(preview.body.details).toEqual([{ field: 'confirm', messages: [expect.stringContaining('5 entries')] }]);
        await sleep(300);
        expect(handled).toEqual([]);

        const moved = await ops
          .post('/ops/streams/ops-probe/groups/ops-probe/position', { time: at, confirm: true })
          .expect(200);
        expect(moved.body).toEqual({
          stream: 'ops-probe',
          group: 'ops-probe',
          lastDeliveredId: expect.any(String),
          redeliver: 5,
        });
        await waitFor('re-delivered', () => handled.length >= 5);
        await sleep(300);
        expect(handled.map((h) => h.n).sort((a, b) => a - b)).toEqual([106, 107, 108, 109, 110]);
      });

      it('moves to an id, and refuses no target, two targets or an unknown group', async () => {
        const ids = (await redis.xrange(probeKey(), '-', '+')).map(([id]) => id);
        const last = ids[ids.length - 1];
        handled.length = 0;
        const moved = await ops
          .post('/ops/streams/ops-probe/groups/ops-probe/position', { id: ids[ids.length - 3], confirm: true })
          .expect(200);
        expect(moved.body).toMatchObject({ lastDeliveredId: ids[ids.length - 3], redeliver: 2 });
        await waitFor('two re-delivered', () => handled.length >= 2);
        expect(
          (await ops.get('/ops/streams/ops-probe/groups').expect(200)).body.find(
            (g: { group: string }) => g.group === 'ops-probe',
          ).lastDeliveredId,
        ).toBe(last);
        expect(
          (await ops.post('/ops/streams/ops-probe/groups/ops-probe/position', { confirm: true }).expect(400)).body
            .details[0].field,
        ).toBe('id');
        await ops
          .post('/ops/streams/ops-probe/groups/ops-probe/position', {
            id: last,
            time: new Date().toISOString(),
            confirm: true,
          })
          .expect(400);
        await ops
          .post('/ops/streams/ops-probe/groups/ops-probe/position', { time: 'yesterday', confirm: true })
          .expect(400);
        await ops.post('/ops/streams/ops-probe/groups/nobody/position', { id: last, confirm: true }).expect(404);
      });
    });

    describe('publishing', () => {
      it('publishes a valid event of a registered type with source ops-api', async () => {
        const res = await ops
          .post('/ops/events', { type: 'OpsProbed', data: { label: 'published', n: 500 } })
          .expect(201);
        expect(res.body).toEqual({
          id: expect.any(String),
          entryId: expect.stringMatching(/^\d+-\d+$/),
          stream: 'ops-probe',
        });
        const entry = await ops.get(`/ops/streams/ops-probe/entries/${res.body.entryId}`).expect(200);
        expect(entry.body).toMatchObject({
          eventId: res.body.id,
          type: 'OpsProbed',
          version: 1,
          source: 'ops-api',
          subject: 'published',
          data: { label: 'published', n: 500 },
        });
        await waitFor('handled', () => handled.some((h) => h.n === 500));
        const subject = await ops
          .post('/ops/events', { type: 'OpsProbed', version: 1, data: { label: 'x', n: 501 }, subject: 'chosen' })
          .expect(201);
        expect((await ops.get(`/ops/streams/ops-probe/entries/${subject.body.entryId}`).expect(200)).body.subject).toBe(
          'chosen',
        );
      });

      it('validates the payload against the contract and names each bad field; writes nothing', async () => {
        const length = await redis.xlen(testKeys(ns).stream('orders'));
        const res = await ops
          .post('/ops/events', {
            type: 'OrderPlaced',
            data: {
              orderId: 'ORD-OPS-1',
              userId: 'u',
              userEmail: 'not-an-email',
              items: [],
              total: -1,
              currency: 'EUR',
              placedAt: 'now',
            },
          })
          .expect(400);
        expectOpsError(res.body, 400);
        expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
          'data.items',
          'data.placedAt',
          'data.total',
          'data.userEmail',
        ]);
        expect(await redis.xlen(testKeys(ns).stream('orders'))).toBe(length);
      });

      it('answers 404 for an unknown type or version and 400 for a malformed request', async () => {
        expectOpsError((await ops.post('/ops/events', { type: 'NoSuchThing', data: {} }).expect(404)).body, 404);
        expect(
          (await ops.post('/ops/events', { type: 'OpsProbed', version: 9, data: { label: 'x', n: 1 } }).expect(404))
            .body.message,
        ).toContain('version 9');
        const bad = await ops.post('/ops/events', { type: 'Ops Probed', data: 'text', extra: true }).expect(400);
        expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['data', 'extra', 'type']);
        // an own "__proto__" key (JSON.parse makes one) neither swaps the event's prototype nor travels
        const proto = await ops
          .post(
            '/ops/events',
            JSON.parse('{"type":"OpsProbed","data":{"label":"proto","n":7,"__proto__":{"n":"polluted"}}}'),
          )
          .expect(201);
        expect((await ops.get(`/ops/streams/ops-probe/entries/${proto.body.entryId}`).expect(200)).body.data).toEqual({
          label: 'proto',
          n: 7,
        });
      });
    });

    describe('retention', () => {
      it('reads, sets and clears a policy', async () => {
        await ops.get('/ops/streams/ops-probe/retention').expect(200, { stream: 'ops-probe', policy: null });
        await ops
          .put('/ops/streams/ops-probe/retention', { maxLength: 5 })
          .expect(200, { stream: 'ops-probe', policy: { maxLength: 5 } });
        const bad = await ops.put('/ops/streams/ops-probe/retention', { maxLength: 0, maxAgeMs: 'long' }).expect(400);
        expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['maxAgeMs', 'maxLength']);
        const listed = (await ops.get('/ops/streams').expect(200)).body.find(
          (s: { stream: string }) => s.stream === 'ops-probe',
        );
        expect(listed.retention).toEqual({ maxLength: 5 });
        await ops.put('/ops/streams/payments/retention', { maxAgeMs: 60_000 }).expect(200);
        await ops.put('/ops/streams/payments/retention', {}).expect(200, { stream: 'payments', policy: null });
      });

      it('trims by policy without dropping unacknowledged entries, unless forced; 409 without a policy', async () => {
        expectOpsError((await ops.post('/ops/streams/payments/trim').expect(409)).body, 409);
        const length = await redis.xlen(probeKey());
        const kept = await ops.post('/ops/streams/ops-probe/trim').expect(200);
        expect(kept.body.keptBecauseUnacknowledged).toBeGreaterThan(0);
        expect(await redis.xlen(probeKey())).toBe(length - kept.body.deleted);
        const forced = await ops.post('/ops/streams/ops-probe/trim', { force: true }).expect(200);
        expect(forced.body).toEqual({ deleted: length - kept.body.deleted - 5, keptBecauseUnacknowledged: 0 });
        expect(await redis.xlen(probeKey())).toBe(5);
      });
    });

    it('answers unknown routes under /ops in the same shape', async () => {
      const res = await ops.get('/ops/nothing-here').expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
    });
  },
);
