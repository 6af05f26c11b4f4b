import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';

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
}

/** `ConfigModule.forRoot({ validate })`: fails startup with one line per bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false, skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `  - ${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new Error(`Invalid configuration (see the README's configuration table):\n${lines.join('\n')}`);
  }
  return env;
}
