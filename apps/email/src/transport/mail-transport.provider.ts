import type { FactoryProvider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MAIL_TRANSPORT } from '../email.constants';
import type { MailTransport } from './mail-transport.interface';
import { RecordingMailTransport } from './recording-mail.transport';
import { SmtpMailTransport } from './smtp-mail.transport';

/** SMTP when `SMTP_URL` is set, otherwise the recording transport. */
export function createMailTransport(smtpUrl: string | undefined): MailTransport {
  return smtpUrl ? new SmtpMailTransport(smtpUrl) : new RecordingMailTransport();
}

/** Binds `MAIL_TRANSPORT`; tests replace it with `overrideProvider(MAIL_TRANSPORT)`. */
export const mailTransportProvider: FactoryProvider<MailTransport> = {
  provide: MAIL_TRANSPORT,
  useFactory: (config: ConfigService) => createMailTransport(config.get<string>('SMTP_URL') || undefined),
  inject: [ConfigService],
};
