import { Test } from '@nestjs/testing';
import { MAIL_TRANSPORT } from '../email.constants';
import { MailTransportConfigError } from '../errors/mail-transport-config.error';
import { createMailTransport } from './mail-transport.provider';
import { RecordingMailTransport } from './recording-mail.transport';
import { SmtpMailTransport } from './smtp-mail.transport';

describe('mail transport selection', () => {
  it('records by default, with a message id per mail', async () => {
    const transport = createMailTransport(undefined);
    expect(transport).toBeInstanceOf(RecordingMailTransport);
    const a = await transport.send({ to: 'ada@example.com', subject: 's', text: 't' });
    const b = await transport.send({ to: 'ada@example.com', subject: 's', text: 't' });
    expect(a.messageId).toMatch(/^<.+@email-service\.local>$/);
    expect(a.messageId).not.toBe(b.messageId);
  });

  it('with SMTP_URL but no SMTP client, fails the start naming nodemailer, and never pretends to send', async () => {
    const transport = createMailTransport('smtp://mail.example.com:587');
    expect(transport).toBeInstanceOf(SmtpMailTransport);
    await expect(transport.send({ to: 'ada@example.com', subject: 's', text: 't' })).rejects.toThrow(MailTransportConfigError);

    // As a provider: the module's init (app.init / listen) rejects, no abort while building it.
    const moduleRef = await Test.createTestingModule({ providers: [{ provide: MAIL_TRANSPORT, useValue: transport }] }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/SMTP_URL is set.*"nodemailer" package is not a dependency/);
    // NOTE: no moduleRef.close(): Nest's close() awaits the failed init and throws again; nothing was opened.
  });
});
