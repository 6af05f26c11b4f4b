import type { FactoryProvider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EmailConfig } from '../email.config';
import { MAIL_TRANSPORT } from '../email.constants';
import type { MailTransport } from './mail-transport.interface';
import { RecordingMailTransport } from './recording-mail.transport';
import { SmtpMailTransport, type SmtpOptions } from './smtp-mail.transport';

/** SMTP when `SMTP_URL` is set (its options read at init), otherwise the recording transport. */
export function createMailTransport(smtpUrl: string | undefined, smtpOptions: () => SmtpOptions): MailTransport {
  return smtpUrl ? new SmtpMailTransport(smtpUrl, smtpOptions) : new RecordingMailTransport();
}

/** Binds `MAIL_TRANSPORT`; tests replace it with `overrideProvider(MAIL_TRANSPORT)`. */
export const mailTransportProvider: FactoryProvider<MailTransport> = {
  provide: MAIL_TRANSPORT,
  // NOTE: the settings are read when the transport initialises, not here: a bad value then fails
  // app.init() with EmailConfig's message instead of aborting while providers are built.
  useFactory: (config: ConfigService, email: EmailConfig) =>
    createMailTransport(config.get<string>('SMTP_URL') || undefined, () => ({
      from: email.settings.EMAIL_FROM,
      maxConnections: email.settings.EMAIL_WORKER_CONCURRENCY,
    })),
  inject: [ConfigService, EmailConfig],
};
