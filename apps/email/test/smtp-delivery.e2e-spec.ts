import { createServer, type AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import request from 'supertest';
import { EventPublisher } from '@nest-streams/event-bus';
import { waitFor } from '../../../test/support/redis';
import { createEmailTestApp } from './support/email-test-app';
import { orderConfirmed } from './support/order-events';

/** An SMTP refusal with its reply code, as smtp-server sends it. */
function refusal(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** A local port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * An SMTP server on `port` (0: a free one) that parses every mail it takes into `received`;
 * `onRcptTo` may refuse recipients.
 */
async function startSmtpServer(
  port: number,
  received: ParsedMail[],
  onRcptTo?: SMTPServerOptions['onRcptTo'],
): Promise<SMTPServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo: onRcptTo ?? ((_address, _session, callback) => callback()),
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        received.push(mail);
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/**
 * The email service with `SMTP_URL` set, against a real SMTP server on a free local port
 * (smtp-server, the protocol server of the nodemailer project): what the server receives, and
 * what the service does with its temporary (4xx) and permanent (5xx) refusals.
 */
describe('email over SMTP (real Redis, real SMTP server)', () => {
  const received: ParsedMail[] = [];
  /** RCPT TO attempts per address, refused or not. */
  const recipientAttempts = new Map<string, number>();
  /** Address -> how many next RCPT TO are refused with 451. */
  const temporaryRefusals = new Map<string, number>();
  let smtp: SMTPServer;
  let app: INestApplication;

  beforeAll(async () => {
    smtp = await startSmtpServer(0, received, (address, _session, callback) => {
      const to = address.address;
      recipientAttempts.set(to, (recipientAttempts.get(to) ?? 0) + 1);
      if (to.startsWith('nobody@')) return callback(refusal(550, '5.1.1 no such mailbox'));
      const left = temporaryRefusals.get(to) ?? 0;
      if (left > 0) {
        temporaryRefusals.set(to, left - 1);
        return callback(refusal(451, '4.3.0 mailbox busy, try again later'));
      }
      callback();
    });
    const { port } = smtp.server.address() as AddressInfo;
    ({ app } = await createEmailTestApp(undefined, {
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      EMAIL_FROM: 'Test Shop <shop@test.example>',
      EMAIL_RETRY_DELAY_MS: '20',
      EMAIL_RETRY_ATTEMPTS: '5',
    }));
  });

  afterAll(async () => {
    await app?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    delete process.env.SMTP_URL;
    delete process.env.EMAIL_FROM;
  });

  const http = () => request(app.getHttpServer());
  const receivedBy = (to: string): ParsedMail[] =>
    received.filter((mail) => mail.to && !Array.isArray(mail.to) && mail.to.text === to);

  it('sends the order mail through the server as rendered, and the sent log keeps the Message-ID the server got', async () => {
    await app.get(EventPublisher).publish(orderConfirmed('ORD-S1', 'ada@example.com'));
    await waitFor('the mail at the SMTP server', () => receivedBy('ada@example.com').length === 1, 15_000);

    const [mail] = receivedBy('ada@example.com');
    expect(mail.from?.text).toBe('"Test Shop" <shop@test.example>');
    expect(mail.subject).toBe('Your order ORD-S1 is confirmed');
    expect(mail.text).toContain('thank you for your order ORD-S1.');
    expect(mail.text).toContain('Total: 49.00 EUR');
    expect(mail.text).toContain('Payment reference: PAY-ORD-S1');

    await waitFor(
      'the sent log entry',
      async () => (await http().get('/emails').query({ to: 'ada@example.com' })).body.length === 1,
    );
    const [logged] = (await http().get('/emails').query({ to: 'ada@example.com' }).expect(200)).body;
    expect(logged).toMatchObject({
      to: 'ada@example.com',
      subject: 'Your order ORD-S1 is confirmed',
      attempts: 1,
      messageId: mail.messageId,
    });
  });

  it('retries a temporary refusal (451) with backoff until the server takes the mail', async () => {
    temporaryRefusals.set('busy@example.com', 2);
    await app.get(EventPublisher).publish(orderConfirmed('ORD-S2', 'busy@example.com'));
    await waitFor('the mail accepted on the third try', () => receivedBy('busy@example.com').length === 1, 15_000);

    expect(recipientAttempts.get('busy@example.com')).toBe(3);
    await waitFor(
      'the sent log entry',
      async () => (await http().get('/emails').query({ to: 'busy@example.com' })).body.length === 1,
    );
    const [logged] = (await http().get('/emails').query({ to: 'busy@example.com' }).expect(200)).body;
    expect(logged.attempts).toBe(3);
  });

  it('fails the job at once on a permanent refusal (550): one attempt, listed as failed with the server answer, nothing sent', async () => {
    await app.get(EventPublisher).publish(orderConfirmed('ORD-S3', 'nobody@example.com'));
    const failedJob = async () =>
      ((await http().get('/emails/failed').expect(200)).body as Array<Record<string, unknown>>).find(
        (job) => job.to === 'nobody@example.com',
      );
    await waitFor('the failed job', async () => (await failedJob()) !== undefined, 15_000);

    const failed = (await failedJob())!;
    expect(failed).toMatchObject({ orderId: 'ORD-S3', attempts: 1 });
    expect(String(failed.failedReason)).toMatch(/^refused by the SMTP server: .*550 5\.1\.1 no such mailbox/);
    // NOTE: with five attempts and 20 ms backoff, a retry would have come within the wait above.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(recipientAttempts.get('nobody@example.com')).toBe(1);
    expect(receivedBy('nobody@example.com')).toEqual([]);
    expect((await http().get('/emails').query({ to: 'nobody@example.com' }).expect(200)).body).toEqual([]);
  });
});

describe('email over SMTP while the server is unreachable (real Redis, real SMTP server started late)', () => {
  const received: ParsedMail[] = [];
  let port: number;
  let smtp: SMTPServer | undefined;
  let app: INestApplication;

  beforeAll(async () => {
    port = await freePort();
    // NOTE: the service starts although nothing answers at SMTP_URL (it logs a warning).
    ({ app } = await createEmailTestApp(undefined, {
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      EMAIL_RETRY_DELAY_MS: '100',
      EMAIL_RETRY_ATTEMPTS: '10',
    }));
  });

  afterAll(async () => {
    await app?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    delete process.env.SMTP_URL;
  });

  it('keeps the mail and retries it; once the server answers, it goes out (tried: connection refused on the first attempts)', async () => {
    const http = () => request(app.getHttpServer());
    await app.get(EventPublisher).publish(orderConfirmed('ORD-S4', 'patient@example.com'));
    // NOTE: 100 ms backoff, doubling: attempts at ~0, 100, 300 ms fail with ECONNREFUSED before the server starts.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await http().get('/emails').query({ to: 'patient@example.com' }).expect(200)).body).toEqual([]);
    expect((await http().get('/emails/failed').expect(200)).body).toEqual([]);

    smtp = await startSmtpServer(port, received);
    await waitFor(
      'the mail at the SMTP server',
      () => received.some((mail) => mail.subject === 'Your order ORD-S4 is confirmed'),
      15_000,
    );
    await waitFor(
      'the sent log entry',
      async () => (await http().get('/emails').query({ to: 'patient@example.com' })).body.length === 1,
    );
    const [logged] = (await http().get('/emails').query({ to: 'patient@example.com' }).expect(200)).body;
    expect(logged.attempts).toBeGreaterThan(1);
  });
});
