import { OnModuleInit } from '@nestjs/common';
import { MailTransportConfigError } from '../errors/mail-transport-config.error';
import type { MailTransport, OutgoingMail, SentReceipt } from './mail-transport.interface';

const NO_SMTP_CLIENT =
  'SMTP_URL is set, but this build has no SMTP client: the "nodemailer" package is not a dependency. ' +
  'Add it (npm install nodemailer) and implement SmtpMailTransport.send() with it, or unset SMTP_URL ' +
  'to record mail in Redis only (GET /emails).';

/**
 * The SMTP transport chosen when `SMTP_URL` is set. Not available yet: it refuses to start
 * (startup fails with a message naming the fix) and never pretends to send.
 */
export class SmtpMailTransport implements MailTransport, OnModuleInit {
  constructor(readonly url: string) {}

  onModuleInit(): void {
    throw new MailTransportConfigError(NO_SMTP_CLIENT);
  }

  async send(_mail: OutgoingMail): Promise<SentReceipt> {
    throw new MailTransportConfigError(NO_SMTP_CLIENT);
  }
}
