import { parseEmailSettings } from './email.settings';

describe('parseEmailSettings', () => {
  it('fills documented defaults', () => {
    expect(parseEmailSettings({})).toMatchObject({
      EMAIL_WORKER_CONCURRENCY: 5,
      EMAIL_RETRY_ATTEMPTS: 5,
      EMAIL_RETRY_DELAY_MS: 1000,
    });
    expect(parseEmailSettings({}).SMTP_URL).toBeUndefined();
    expect(parseEmailSettings({}).EMAIL_FROM).toBe('Shop <orders@shop.example>');
  });

  it('takes a From of an address or Name <address>, and refuses anything else', () => {
    expect(parseEmailSettings({ EMAIL_FROM: 'orders@shop.example' }).EMAIL_FROM).toBe('orders@shop.example');
    expect(parseEmailSettings({ EMAIL_FROM: 'My Shop <orders@shop.example>' }).EMAIL_FROM).toBe(
      'My Shop <orders@shop.example>',
    );
    for (const bad of ['My Shop', 'orders@', '<orders@shop.example', 'a@b.example\r\nBcc: x@y.example']) {
      expect(() => parseEmailSettings({ EMAIL_FROM: bad })).toThrow(/EMAIL_FROM=.*: EMAIL_FROM must be an address/);
    }
  });

  it('parses numbers and treats empty as unset', () => {
    expect(
      parseEmailSettings({ EMAIL_RETRY_DELAY_MS: '20', EMAIL_WORKER_CONCURRENCY: '', SMTP_URL: '' }),
    ).toMatchObject({
      EMAIL_RETRY_DELAY_MS: 20,
      EMAIL_WORKER_CONCURRENCY: 5,
      SMTP_URL: undefined,
    });
  });

  it('names every bad variable in one message', () => {
    expect(() =>
      parseEmailSettings({ EMAIL_RETRY_DELAY_MS: 'soon', EMAIL_WORKER_CONCURRENCY: '0', SMTP_URL: 'mail.example.com' }),
    ).toThrow(
      /EMAIL_WORKER_CONCURRENCY="?0"?.*\n.*EMAIL_RETRY_DELAY_MS=.*\n.*SMTP_URL="mail.example.com": SMTP_URL must look like smtp:\/\//s,
    );
  });
});
