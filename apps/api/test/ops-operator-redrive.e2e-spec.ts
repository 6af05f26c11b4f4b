import { Injectable, Module } from '@nestjs/common';
import { IsString } from 'class-validator';
import type Redis from 'ioredis';
import request from 'supertest';
import { EventBusModule, EventContract, EventContext, Subscribe } from '@nest-streams/event-bus';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { createOpsTestApp, OpsTestApp } from './support/ops-app';
import { opsClient } from './support/ops-client';

const STREAM = 'ops-redrive';
const GROUP = 'redrive-probe';

/** A test-only contract on a stream of its own (the ops API reaches it: a contract names it). */
@EventContract({ type: 'OpsRedriveProbed', version: 1, stream: STREAM, subjectField: 'label' })
class OpsRedriveProbed {
  @IsString()
  label!: string;
}

/** Every run of the handler, and the runs that succeeded. */
const attempts: Array<{ eventId: string; deliveryCount: number; redrive: boolean }> = [];
const handled: Array<{ eventId: string; redrive: boolean }> = [];
/** The bug the operator works around: the handler fails until the fix is "deployed". */
let storeDown = true;

@Injectable()
class RedriveProbeHandlers {
  @Subscribe(OpsRedriveProbed)
  async record(_event: OpsRedriveProbed, ctx: EventContext): Promise<void> {
    attempts.push({ eventId: ctx.envelope.id, deliveryCount: ctx.deliveryCount, redrive: ctx.redrive });
    if (storeDown) throw new Error('probe store unavailable');
    handled.push({ eventId: ctx.envelope.id, redrive: ctx.redrive });
  }
}

@Module({
  // NOTE: dedupe stays on (the default): the dedupe claim is what this test is about. A 1 s
  // backoff doubling up to 10 attempts keeps the failing entry pending in the running group
  // (never dead-lettered by the library itself) while the operator acts on it.
  imports: [
    EventBusModule.forFeature({
      group: GROUP,
      consumer: { retry: { maxAttempts: 10, initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 30_000, jitter: 0 } },
    }),
  ],
  providers: [RedriveProbeHandlers],
})
class RedriveProbeModule {}

/**
 * The operator's dead-letter path through a running bus consumer: an entry stuck pending because
 * its handler keeps failing is dead-lettered over HTTP (`.../pending/:id/dead-letter`), the handler
 * is fixed, the dead letter is redriven over HTTP: the handler must then run for that event, as it
 * does for a dead letter the library wrote itself.
 */
describe('operations API: dead-lettering a pending entry by hand, then redriving it', () => {
  let platform: OpsTestApp;
  let redis: Redis;
  let ops: ReturnType<typeof opsClient>;
  let ns: string;

  const redriveKey = (): string => `${ns}:{${STREAM}}:redrive:${GROUP}`;

  /** Whether the group has read and acknowledged every entry of its redrive stream. */
  async function redriveSettled(): Promise<boolean> {
    const [last] = await redis.xrevrange(redriveKey(), '+', '-', 'COUNT', 1);
    if (!last) return false;
    const groups = (await redis.xinfo('GROUPS', redriveKey())) as Array<Array<string | number>>;
    for (const flat of groups) {
      const info: Record<string, string | number> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
      if (info.name === GROUP) return info['last-delivered-id'] === last[0] && Number(info.pending) === 0;
    }
    return false;
  }

  /** eventbus_events_duplicates_total of the probe group, as GET /metrics shows it. */
  async function duplicatesSkipped(): Promise<number> {
    const text = (await request(platform.url).get('/metrics').expect(200)).text;
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('eventbus_events_duplicates_total{') &&
          l.includes(`stream="${STREAM}"`) &&
          l.includes(`group="${GROUP}"`),
      );
    return line ? Number(line.split(' ').pop()) : 0;
  }

  beforeAll(async () => {
    platform = await createOpsTestApp({ extra: [RedriveProbeModule], env: { OPS_RATE_LIMIT: '100000' } });
    ns = platform.namespace;
    ops = opsClient(platform.url);
    redis = testRedisClient();
  });

  afterAll(async () => {
    await platform?.app.close();
    redis?.disconnect();
  });

  it('runs the handler for the redriven event, and leaves nothing pending', async () => {
    // 1. An event reaches the group, whose handler fails: the entry stays pending, in backoff.
    const published = await ops.post('/ops/events', { type: 'OpsRedriveProbed', data: { label: 'stuck' } }).expect(201);
    const { id: eventId, entryId } = published.body as { id: string; entryId: string };
    await waitFor('the handler failed on the event', () => attempts.some((a) => a.eventId === eventId));
    const pending = (await ops.get(`/ops/streams/${STREAM}/groups/${GROUP}/pending`).expect(200)).body as Array<{
      id: string;
      deliveries: number;
    }>;
    expect(pending.map((p) => p.id)).toEqual([entryId]);

    // 2. The operator dead-letters it by hand.
    const dead = await ops
      .post(`/ops/streams/${STREAM}/groups/${GROUP}/pending/${entryId}/dead-letter`, { reason: 'operator' })
      .expect(200);
    expect(dead.body).toEqual({ id: entryId, outcome: 'dead-lettered', deadLetterId: expect.any(String) });
    expect((await ops.get(`/ops/streams/${STREAM}/groups/${GROUP}/pending`).expect(200)).body).toEqual([]);
    const letters = (await ops.get(`/ops/streams/${STREAM}/dead-letters?group=${GROUP}`).expect(200)).body as Array<{
      eventId: string;
      entryId: string;
    }>;
    expect(letters.map((l) => [l.eventId, l.entryId])).toEqual([[eventId, entryId]]);

    // 3. The fix is deployed; the operator redrives the dead letter to the group.
    storeDown = false;
    await ops.post(`/ops/streams/${STREAM}/dead-letters/redrive`, { group: GROUP }).expect(200, { redriven: 1 });

    // 4. The group reads the redriven entry and acknowledges it (handled, or skipped as a duplicate).
    await waitFor('the redriven entry acknowledged by the group', redriveSettled, 15_000);

    // The handler ran for the event, from the redrive, once; the guard skipped nothing as a duplicate.
    expect({
      handled: handled.filter((h) => h.eventId === eventId),
      skippedAsDuplicate: await duplicatesSkipped(),
    }).toEqual({
      handled: [{ eventId, redrive: true }],
      skippedAsDuplicate: 0,
    });
    // Nothing pending, in the live stream or the redrive stream; the dead letter is gone.
    expect((await ops.get(`/ops/streams/${STREAM}/groups/${GROUP}/pending`).expect(200)).body).toEqual([]);
    expect(Number((await redis.xpending(redriveKey(), GROUP))[0])).toBe(0);
    expect((await ops.get(`/ops/streams/${STREAM}/dead-letters?group=${GROUP}`).expect(200)).body).toEqual([]);
  });
});
