import type { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import request from 'supertest';
import { EventPublisher } from '@nest-streams/event-bus';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { MailProcessor } from '../src/mail/mail.processor';
import { createEmailTestApp } from './support/email-test-app';
import { orderConfirmed } from './support/order-events';
import { ScriptedTransport } from './support/scripted-transport';

/** Delivery guarantees of the email queue, with a transport the test counts and breaks. */
describe('email delivery (real Redis, scripted transport)', () => {
  const transport = new ScriptedTransport();
  let app: INestApplication;
  let namespace: string;
  let redis: Redis;

  beforeAll(async () => {
    ({ app, namespace } = await createEmailTestApp(transport, {
      EMAIL_RETRY_DELAY_MS: '20',
      EMAIL_RETRY_ATTEMPTS: '5',
      EMAIL_WORKER_CONCURRENCY: '3',
    }));
    redis = testRedisClient();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.quit();
  });

  const http = () => request(app.getHttpServer());
  const queue = () => app.get<Queue>(getQueueToken('email'));
  const ordersKey = () => `${namespace}:{orders}`;

  async function mailsTo(to: string): Promise<Array<Record<string, any>>> {
    return (await http().get('/emails').query({ to }).expect(200)).body;
  }

  /** True once the email group has read every entry of `orders` and acknowledged them all. */
  async function groupCaughtUp(): Promise<boolean> {
    const groups = (await redis.xinfo('GROUPS', ordersKey())) as unknown[][];
    const email = groups.map((g) => Object.fromEntries(chunk(g))).find((g) => g.name === 'email');
    return !!email && Number(email.pending) === 0 && Number(email.lag) === 0;
  }

  it('mails once when OrderConfirmed is delivered again, as the same entry or as a replay with a new event id', async () => {
    const published = await app.get(EventPublisher).publish(orderConfirmed('ORD-R1', 'replay@example.com'));
    await waitFor('the first mail', async () => (await mailsTo('replay@example.com')).length === 1);

    const [[, fields]] = await redis.xrange(ordersKey(), published.entryId, published.entryId);
    const withId = (id: string) => fields.map((value, i) => (i > 0 && fields[i - 1] === 'id' ? id : value));
    await redis.xadd(ordersKey(), '*', ...fields);
    await redis.xadd(ordersKey(), '*', ...withId('replay-of-ORD-R1'));
    await waitFor('the email group to handle both copies', groupCaughtUp);
    // The copy with a new id got past the bus's dedupe guard: its handler ran (and enqueued nothing new).
    const buckets = await redis.keys(`${ordersKey()}:seen:email:*`);
    const marked = await Promise.all(buckets.map((bucket) => redis.hexists(bucket, 'replay-of-ORD-R1')));
    expect(marked).toContain(1);
    await new Promise((r) => setTimeout(r, 300));

    expect(transport.callsTo('replay@example.com')).toBe(1);
    expect(await mailsTo('replay@example.com')).toHaveLength(1);
    expect(await queue().getJobCounts('completed', 'waiting', 'delayed', 'active')).toMatchObject({
      waiting: 0,
      delayed: 0,
      active: 0,
    });
  });

  it('does not mail again on a replay after the job itself was removed (the sent log decides)', async () => {
    await queue().remove('mail.ORD-R1.confirmed');
    const replay = orderConfirmed('ORD-R1', 'replay@example.com');
    await app.get(EventPublisher).publish(replay, { id: 'late-replay-of-ORD-R1' });
    await waitFor(
      'the re-added job to complete',
      async () => (await queue().getJob('mail.ORD-R1.confirmed'))?.finishedOn !== undefined,
    );

    const job = await queue().getJob('mail.ORD-R1.confirmed');
    expect(job?.returnvalue).toMatchObject({ alreadySent: true });
    expect(transport.callsTo('replay@example.com')).toBe(1);
    expect(await mailsTo('replay@example.com')).toHaveLength(1);
  });

  it('retries a failing transport with backoff and records one mail with its attempt count', async () => {
    transport.failures.set('flaky@example.com', 2);
    await app.get(EventPublisher).publish(orderConfirmed('ORD-F1', 'flaky@example.com'));
    await waitFor('the mail after two failures', async () => (await mailsTo('flaky@example.com')).length === 1);

    expect(transport.callsTo('flaky@example.com')).toBe(3);
    expect(transport.sentTo('flaky@example.com')).toBe(1);
    const [mail] = await mailsTo('flaky@example.com');
    expect(mail).toMatchObject({
      id: 'mail.ORD-F1.confirmed',
      attempts: 3,
      messageId: expect.stringMatching(/^<scripted-/),
    });
    const job = await queue().getJob('mail.ORD-F1.confirmed');
    expect(job?.opts).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 20 } });
  });

  it('runs the worker with the configured concurrency', () => {
    expect(app.get(MailProcessor).worker.concurrency).toBe(3);
    expect(app.get(MailProcessor).worker.isRunning()).toBe(true);
  });

  it('fails the job after its last attempt, lists it, and sends it on retry', async () => {
    transport.failures.set('down@example.com', Infinity);
    await app.get(EventPublisher).publish(orderConfirmed('ORD-D1', 'down@example.com'));
    await waitFor(
      'the job to fail',
      async () => (await queue().getJob('mail.ORD-D1.confirmed'))?.finishedOn !== undefined,
    );

    expect(transport.callsTo('down@example.com')).toBe(5);
    expect(await mailsTo('down@example.com')).toEqual([]);
    const failed = (await http().get('/emails/failed').expect(200)).body;
    expect(failed).toEqual([
      expect.objectContaining({
        id: 'mail.ORD-D1.confirmed',
        to: 'down@example.com',
        orderId: 'ORD-D1',
        template: 'order-confirmed',
        attempts: 5,
        failedReason: '451 temporary failure for down@example.com',
      }),
    ]);

    transport.failures.set('down@example.com', 0);
    await http().post('/emails/failed/mail.ORD-D1.confirmed/retry').expect(202);
    await waitFor('the retried mail', async () => (await mailsTo('down@example.com')).length === 1);
    expect((await mailsTo('down@example.com'))[0]).toMatchObject({ attempts: 1 });
    expect((await http().get('/emails/failed').expect(200)).body).toEqual([]);
  });
});

describe('email worker shutdown', () => {
  it('app.close() lets the mail being sent finish, and does not hang', async () => {
    const transport = new ScriptedTransport();
    transport.delays.set('slow@example.com', 500);
    const { app, namespace } = await createEmailTestApp(transport, { EMAIL_RETRY_DELAY_MS: '20' });
    const redis = testRedisClient();
    try {
      await app.get(EventPublisher).publish(orderConfirmed('ORD-S1', 'slow@example.com'));
      await waitFor('the send to start', () => transport.callsTo('slow@example.com') === 1);

      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(5000);

      expect(transport.sentTo('slow@example.com')).toBe(1);
      expect(await redis.exists(`${namespace}:svc:email:mail:mail.ORD-S1.confirmed`)).toBe(1);
      expect(await redis.zscore(`${namespace}:bull:email:completed`, 'mail.ORD-S1.confirmed')).not.toBeNull();
    } finally {
      await redis.quit();
    }
  });
});

function chunk(flat: unknown[]): Array<[string, unknown]> {
  const pairs: Array<[string, unknown]> = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([String(flat[i]), flat[i + 1]]);
  return pairs;
}
