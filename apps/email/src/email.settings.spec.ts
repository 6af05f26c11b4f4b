import { parseEmailSettings } from './email.settings';

describe('parseEmailSettings', () => {
  it('fills documented defaults', () => {
    expect(parseEmailSettings({})).toMatchObject({ EMAIL_WORKER_CONCURRENCY: 5, EMAIL_RETRY_ATTEMPTS: 5, EMAIL_RETRY_DELAY_MS: 1000 });
    expect(parseEmailSettings({}).SMTP_URL).toBeUndefined();
  });

  it('parses numbers and treats empty as unset', () => {
    expect(parseEmailSettings({ EMAIL_RETRY_DELAY_MS: '20', EMAIL_WORKER_CONCURRENCY: '', SMTP_URL: '' })).toMatchObject({
      EMAIL_RETRY_DELAY_MS: 20,
      EMAIL_WORKER_CONCURRENCY: 5,
      SMTP_URL: undefined,
    });
  });

  it('names every bad variable in one message', () => {
    expect(() => parseEmailSettings({ EMAIL_RETRY_DELAY_MS: 'soon', EMAIL_WORKER_CONCURRENCY: '0', SMTP_URL: 'mail.example.com' })).toThrow(
      /EMAIL_WORKER_CONCURRENCY="?0"?.*\n.*EMAIL_RETRY_DELAY_MS=.*\n.*SMTP_URL="mail.example.com": SMTP_URL must look like smtp:\/\//s,
    );
  });
});
