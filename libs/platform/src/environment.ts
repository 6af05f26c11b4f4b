import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, Validate, validateSync, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';

const API_KEY_ENTRY = '(?:reader|operator):[A-Za-z0-9._~+/=-]{16,256}';
/** `API_KEYS`: `reader:<key>,operator:<key>,...` */
export const API_KEYS_PATTERN = new RegExp(`^${API_KEY_ENTRY}(?:,${API_KEY_ENTRY})*$`);

@ValidatorConstraint({ name: 'distinctApiKeys' })
class DistinctApiKeys implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return true;
    const keys = value.split(',').map((entry) => entry.slice(entry.indexOf(':') + 1));
    return new Set(keys).size === keys.length;
  }

  defaultMessage(): string {
    return 'API_KEYS lists one key twice: give every key one role (operator includes everything reader may do)';
  }
}

/** Every environment variable the platform reads; the README's configuration table mirrors it. */
export class Environment {
  /** Redis to connect to. */
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must look like redis://host:port or rediss://user:pass@host:port/db' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @Type(() => Number)
  @IsInt({ message: 'PORT must be an integer' })
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @Matches(/^[A-Za-z0-9._:-]{1,64}$/, { message: 'EVENT_BUS_NAMESPACE may hold letters, digits, ".", "_", "-", ":" only' })
  EVENT_BUS_NAMESPACE = 'shop';

  @IsOptional()
  @IsString()
  CONSUMER_NAME?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  CONSUMER_BATCH_SIZE = 100;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60_000)
  CONSUMER_BLOCK_MS = 2000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1024)
  CONSUMER_CONCURRENCY = 32;

  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  /**
   * Keys of the operations API (`/ops`): `reader:<key>,operator:<key>`, several of each allowed.
   * Unset: a random operator key is generated at startup and logged once (development only).
   */
  @IsOptional()
  @Matches(API_KEYS_PATTERN, {
    message:
      'API_KEYS must be a comma-separated list of <role>:<key> with role reader or operator and a key of 16 to 256 ' +
      'characters from A-Z a-z 0-9 . _ ~ + / = - (e.g. API_KEYS=reader:$(openssl rand -hex 24),operator:$(openssl rand -hex 24))',
  })
  @Validate(DistinctApiKeys)
  API_KEYS?: string;

  /** Requests per minute per API key (per IP without a valid key) on `/ops`. */
  @Type(() => Number)
  @IsInt({ message: 'OPS_RATE_LIMIT must be an integer (requests per minute)' })
  @Min(1)
  @Max(1_000_000)
  OPS_RATE_LIMIT = 300;

  /** Largest request body accepted (JSON or form); larger gets 413. */
  @Matches(/^\d{1,9}(b|kb|mb)$/i, { message: 'HTTP_BODY_LIMIT must be a size like 100kb, 1mb or 512b' })
  HTTP_BODY_LIMIT = '100kb';
}

const SECRET_VARIABLES = new Set(['API_KEYS']);

/** `ConfigModule.forRoot({ validate })`: fails startup with one line per bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false, skipMissingProperties: false });
  if (errors.length > 0) {
    // NOTE: secrets are not echoed back into logs.
    const shown = (e: (typeof errors)[number]): string => (SECRET_VARIABLES.has(e.property) ? '(hidden)' : JSON.stringify(e.value));
    const lines = errors.map((e) => `  - ${e.property}=${shown(e)}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new Error(`Invalid configuration (see the README's configuration table):\n${lines.join('\n')}`);
  }
  return env;
}
