import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { createTransport, type Transporter } from 'nodemailer';
import type { MailTransport, OutgoingMail, SentReceipt } from './mail-transport.interface';

/** How SMTP is used: where from, and how many connections. */
export interface SmtpOptions {
  /** The `From:` of every mail (`Shop <orders@shop.example>` or a bare address). */
  from: string;
  /** Connections kept open to the server (the worker's concurrency). */
  maxConnections: number;
}

/** Connecting, and the server's greeting, each give up after this. */
const CONNECT_TIMEOUT_MS = 10_000;
/** An open connection that stays silent this long fails the send. */
const SOCKET_TIMEOUT_MS = 30_000;

/**
 * Sends through an SMTP server (`SMTP_URL`, `smtp://` or `smtps://`, credentials in the URL) with
 * nodemailer, over a small pool of connections. What the worker does with a failure depends on
 * the server's answer: a permanent refusal of the recipient or the message (5xx) fails the job at
 * once, since sending it again would be refused again (it is listed at `GET /emails/failed`, and
 * can be retried there); anything else (4xx, no connection, a timeout, a login refused) is
 * retried with the queue's backoff.
 */
export class SmtpMailTransport implements MailTransport, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SmtpMailTransport.name);
  private transporter?: Transporter;

  /** `options` is read at init, once the service's settings are checked. */
  constructor(
    readonly url: string,
    private readonly readOptions: () => SmtpOptions,
  ) {}

  /** Says at start whether the server answers; a server that does not only delays mail (jobs retry). */
  async onModuleInit(): Promise<void> {
    const { from, maxConnections } = this.readOptions();
    this.transporter = createTransport(
      {
        url: this.url,
        pool: true,
        maxConnections,
        connectionTimeout: CONNECT_TIMEOUT_MS,
        greetingTimeout: CONNECT_TIMEOUT_MS,
        socketTimeout: SOCKET_TIMEOUT_MS,
      },
      { from },
    );
    try {
      await this.transporter.verify();
      this.logger.log(`SMTP server ${this.where()} answers; mail goes out from ${from}`);
    } catch (error) {
      this.logger.warn(`SMTP server ${this.where()} does not answer yet (${describe(error)}); mails wait and retry`);
    }
  }

  onModuleDestroy(): void {
    this.transporter?.close();
  }

  async send(mail: OutgoingMail): Promise<SentReceipt> {
    if (!this.transporter) throw new Error('SMTP transport used before the module was initialised');
    try {
      const info = await this.transporter.sendMail({ to: mail.to, subject: mail.subject, text: mail.text });
      return { messageId: info.messageId };
    } catch (error) {
      if (isPermanentRefusal(error)) throw new UnrecoverableError(`refused by the SMTP server: ${describe(error)}`);
      throw error;
    }
  }

  /** The server's host and port, without credentials, for logs. */
  private where(): string {
    const url = new URL(this.url);
    return `${url.hostname}:${url.port || (url.protocol === 'smtps:' ? '465' : '587')}`;
  }
}

/** A 5xx answer to the recipients or the message (not to the login: that is a setting to fix, then the retries go through). */
function isPermanentRefusal(error: unknown): boolean {
  const { code, responseCode } = error as { code?: string; responseCode?: number };
  return (code === 'EENVELOPE' || code === 'EMESSAGE') && typeof responseCode === 'number' && responseCode >= 500;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
