import { plainToInstance, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  Validate,
  ValidateIf,
  ValidationError,
  validateSync,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { LOG_FORMATS, LogFormat } from './logging/log-settings';

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

const MAX_PARTITIONS = 1024;

@ValidatorConstraint({ name: 'powerOfTwo' })
class PowerOfTwo implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return (
      typeof value === 'number' &&
      Number.isInteger(value) &&
      value >= 1 &&
      value <= MAX_PARTITIONS &&
      (value & (value - 1)) === 0
    );
  }

  defaultMessage(): string {
    return `EVENT_BUS_PARTITIONS must be a power of two from 1 to ${MAX_PARTITIONS} (1, 2, 4, ..., ${MAX_PARTITIONS})`;
  }
}

/** URLs an OTLP/HTTP exporter accepts: `http://otel-collector:4318` has no top-level domain. */
const OTLP_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** OpenTelemetry variables count as unset when empty, as the OpenTelemetry SDKs read them. */
function isSet(_env: object, value: unknown): boolean {
  return value !== undefined && value !== null && (typeof value !== 'string' || value.trim() !== '');
}

/** Every environment variable the platform reads; the README's configuration table mirrors it. */
export class Environment {
  /** Redis to connect to; with REDIS_CLUSTER=true, a comma-separated list of seed nodes (one is enough). */
  @Matches(/^rediss?:\/\/[^\s,]+(,rediss?:\/\/[^\s,]+)*$/, {
    message:
      'REDIS_URL must look like redis://host:port or rediss://user:pass@host:port/db (a comma-separated list of them for a cluster)',
  })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** `true`: REDIS_URL names Redis Cluster nodes. */
  @IsOptional()
  @Matches(/^(true|false)$/i, { message: 'REDIS_CLUSTER must be true or false' })
  REDIS_CLUSTER?: string;

  @Type(() => Number)
  @IsInt({ message: 'PORT must be an integer' })
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Replicas that must have a write before a publish (and so a request that publishes) succeeds: Redis WAIT. 0: the primary's answer is enough. */
  @Type(() => Number)
  @IsInt({ message: 'REDIS_WAIT_REPLICAS must be an integer (replicas)' })
  @Min(0)
  @Max(16)
  REDIS_WAIT_REPLICAS = 0;

  /** How long a publish waits for REDIS_WAIT_REPLICAS replicas, in ms, before it fails (503 over HTTP). */
  @Type(() => Number)
  @IsInt({ message: 'REDIS_WAIT_TIMEOUT_MS must be an integer (ms)' })
  @Min(1)
  @Max(60_000)
  REDIS_WAIT_TIMEOUT_MS = 1000;

  @Matches(/^[A-Za-z0-9._:-]{1,64}$/, {
    message: 'EVENT_BUS_NAMESPACE may hold letters, digits, ".", "_", "-", ":" only',
  })
  EVENT_BUS_NAMESPACE = 'shop';

  /**
   * Consumer groups retention does not wait for, comma-separated (e.g. `flow-index`): an
   * operator's standing decision that those groups may miss entries trimmed before they read
   * them (docs/contract.md section 4: only an operator may trim what a group has not acknowledged).
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._:-]{1,200}(,[A-Za-z0-9._:-]{1,200})*$/, {
    message: 'RETENTION_IGNORES_GROUPS must be a comma-separated list of consumer group names',
  })
  RETENTION_IGNORES_GROUPS?: string;

  /**
   * The retention of every stream without a policy of its own, in ms (default 7 days): older
   * entries are trimmed once every group has acknowledged them; 0 keeps them forever.
   */
  @Type(() => Number)
  @IsInt({ message: 'EVENT_RETENTION_MAX_AGE_MS must be an integer (ms; 0 keeps events forever)' })
  @Min(0)
  EVENT_RETENTION_MAX_AGE_MS = 604_800_000;

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

  /**
   * Partitions of every stream of the namespace: a power of two from 1 to 1024. Fixed per
   * namespace: every process of a namespace must use the same value.
   */
  @Type(() => Number)
  @Validate(PowerOfTwo)
  EVENT_BUS_PARTITIONS = 1;

  /** How long a (group, partition) lease lasts without renewal, in ms (used with EVENT_BUS_PARTITIONS > 1). */
  @Type(() => Number)
  @IsInt({ message: 'CONSUMER_LEASE_MS must be an integer (ms)' })
  @Min(100)
  @Max(600_000)
  CONSUMER_LEASE_MS = 10_000;

  /** How often an instance renews its leases and heartbeat and rebalances, in ms (used with EVENT_BUS_PARTITIONS > 1). */
  @Type(() => Number)
  @IsInt({ message: 'CONSUMER_HEARTBEAT_MS must be an integer (ms)' })
  @Min(10)
  @Max(60_000)
  CONSUMER_HEARTBEAT_MS = 1000;

  /** An instance silent this long leaves its groups' membership, in ms (used with EVENT_BUS_PARTITIONS > 1). */
  @Type(() => Number)
  @IsInt({ message: 'CONSUMER_SESSION_TIMEOUT_MS must be an integer (ms)' })
  @Min(100)
  @Max(600_000)
  CONSUMER_SESSION_TIMEOUT_MS = 10_000;

  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  /** `json` (one object per line) or `pretty` (human-readable). Unset: `pretty` when NODE_ENV=development, else `json`. */
  @IsOptional()
  @IsIn(LOG_FORMATS, { message: 'LOG_FORMAT must be json or pretty' })
  LOG_FORMAT?: LogFormat;

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

  /** OpenTelemetry `service.name` of this process's spans. Unset: the service's own name (`order-service`; `npm start`: `event-platform`). */
  @IsOptional()
  @IsString()
  OTEL_SERVICE_NAME?: string;

  /** OTLP/HTTP collector to export spans to, `/v1/traces` appended (`http://localhost:4318`). Unset (and no traces endpoint): spans are not exported. */
  @ValidateIf(isSet)
  @IsUrl(OTLP_URL, { message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://localhost:4318' })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** OTLP/HTTP traces URL, used as is (`http://localhost:4318/v1/traces`); wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  @ValidateIf(isSet)
  @IsUrl(OTLP_URL, {
    message: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL such as http://localhost:4318/v1/traces',
  })
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;

  /** `true`: no OpenTelemetry SDK: no spans and no `traceparent` on events. */
  @ValidateIf(isSet)
  @Matches(/^(true|false)$/i, { message: 'OTEL_SDK_DISABLED must be true or false' })
  OTEL_SDK_DISABLED?: string;

  /**
   * How long the flow view's index (`<ns>:flow:*`) keeps a flow after its last event, in seconds
   * (default: EVENT_RETENTION_MAX_AGE_MS, or 7 days when that is 0).
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'FLOW_INDEX_TTL_SECONDS must be an integer (seconds)' })
  @Min(60)
  @Max(31_536_000)
  FLOW_INDEX_TTL_SECONDS?: number;
}

const SECRET_VARIABLES = new Set(['API_KEYS']);

/** `ConfigModule.forRoot({ validate })`: fails startup with one line per bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false, skipMissingProperties: false });
  if (env.REDIS_URL.includes(',') && !/^true$/i.test(env.REDIS_CLUSTER ?? '')) {
    errors.push(
      Object.assign(new ValidationError(), {
        property: 'REDIS_URL',
        value: env.REDIS_URL,
        constraints: {
          cluster: 'REDIS_URL lists several nodes: set REDIS_CLUSTER=true for a Redis Cluster, or give one URL',
        },
      }),
    );
  }
  if (errors.length === 0 && env.CONSUMER_HEARTBEAT_MS >= env.CONSUMER_LEASE_MS) {
    errors.push(
      Object.assign(new ValidationError(), {
        property: 'CONSUMER_HEARTBEAT_MS',
        value: env.CONSUMER_HEARTBEAT_MS,
        constraints: {
          heartbeat: `CONSUMER_HEARTBEAT_MS must be less than CONSUMER_LEASE_MS (${env.CONSUMER_LEASE_MS}): leases are renewed every heartbeat`,
        },
      }),
    );
  }
  if (errors.length > 0) {
    // NOTE: secrets are not echoed back into logs.
    const shown = (e: (typeof errors)[number]): string =>
      SECRET_VARIABLES.has(e.property) ? '(hidden)' : JSON.stringify(e.value);
    const lines = errors.map((e) => `  - ${e.property}=${shown(e)}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new Error(`Invalid configuration (see the README's configuration table):\n${lines.join('\n')}`);
  }
  return env;
}
