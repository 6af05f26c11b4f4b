import { createMailTransport } from './mail-transport.provider';
import { RecordingMailTransport } from './recording-mail.transport';
import { SmtpMailTransport } from './smtp-mail.transport';

const OPTIONS = () => ({ from: 'Shop <orders@shop.example>', maxConnections: 1 });

describe('mail transport selection', () => {
  it('records by default, with a message id per mail', async () => {
    const transport = createMailTransport(undefined, OPTIONS);
    expect(transport).toBeInstanceOf(RecordingMailTransport);
    const a = await transport.send({ to: 'ada@example.com', subject: 's', text: 't' });
    const b = await transport.send({ to: 'ada@example.com', subject: 's', text: 't' });
    expect(a.messageId).toMatch(/^<.+@email-service\.local>$/);
    expect(a.messageId).not.toBe(b.messageId);
  });

  it('sends through SMTP when SMTP_URL is set (delivery itself: apps/email/test/smtp-delivery.e2e-spec.ts)', async () => {
    const transport = createMailTransport('smtp://mail.example.com:587', OPTIONS);
    expect(transport).toBeInstanceOf(SmtpMailTransport);
    // NOTE: not initialised (no server here): it refuses to send rather than pretend.
    await expect(transport.send({ to: 'ada@example.com', subject: 's', text: 't' })).rejects.toThrow(
      /before the module was initialised/,
    );
  });
});
