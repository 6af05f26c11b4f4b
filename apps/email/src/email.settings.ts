import { plainToInstance, Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min, validateSync } from 'class-validator';

/**
 * The environment variables the email service reads on top of the platform's. Read through
 * `ConfigService` and checked when the module starts (an invalid value stops the start with one
 * line per bad variable).
 */
export class EmailSettings {
  /** Jobs one process sends at the same time. @default 5 */
  @Type(() => Number)
  @IsInt({ message: 'EMAIL_WORKER_CONCURRENCY must be an integer' })
  @Min(1)
  @Max(100)
  EMAIL_WORKER_CONCURRENCY = 5;

  /** Attempts per mail (the first send and its retries) before the job is failed. @default 5 */
  @Type(() => Number)
  @IsInt({ message: 'EMAIL_RETRY_ATTEMPTS must be an integer' })
  @Min(1)
  @Max(50)
  EMAIL_RETRY_ATTEMPTS = 5;

  /** First retry delay; exponential: delay, 2x, 4x, 8x ... @default 1000 */
  @Type(() => Number)
  @IsInt({ message: 'EMAIL_RETRY_DELAY_MS must be an integer' })
  @Min(1)
  @Max(3_600_000)
  EMAIL_RETRY_DELAY_MS = 1000;

  /** Send through SMTP (`smtp://user:pass@host:587`) instead of only recording mail in Redis. @default unset */
  @IsOptional()
  @Matches(/^smtps?:\/\/\S+$/, { message: 'SMTP_URL must look like smtp://user:pass@host:port or smtps://...' })
  SMTP_URL?: string;

  /** The `From:` of every mail sent through SMTP: an address, or `Name <address>`. @default Shop <orders@shop.example> */
  @Matches(/^(?:[^<>\r\n]*<[^<>\s@]+@[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+)$/, {
    message: 'EMAIL_FROM must be an address (orders@shop.example) or Name <address>',
  })
  EMAIL_FROM = 'Shop <orders@shop.example>';
}

/** Every variable {@link EmailSettings} reads. */
export const EMAIL_SETTING_NAMES = [
  'EMAIL_WORKER_CONCURRENCY',
  'EMAIL_RETRY_ATTEMPTS',
  'EMAIL_RETRY_DELAY_MS',
  'SMTP_URL',
  'EMAIL_FROM',
] as const;

/** Reads and checks the email settings out of an environment-like record; unset or empty means the default. */
export function parseEmailSettings(raw: Record<string, unknown>): EmailSettings {
  const known = Object.fromEntries(
    EMAIL_SETTING_NAMES.filter((name) => raw[name] !== undefined && raw[name] !== '').map((name) => [name, raw[name]]),
  );
  const settings = plainToInstance(EmailSettings, known, { exposeDefaultValues: true });
  const errors = validateSync(settings);
  if (errors.length > 0) {
    const lines = errors.map(
      (e) =>
        `  - ${e.property}=${JSON.stringify(known[e.property] ?? e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid email configuration (see the README's configuration table):\n${lines.join('\n')}`);
  }
  return settings;
}
