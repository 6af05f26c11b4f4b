import type { Level } from 'pino';
import type { LogLevel } from '@nestjs/common';

/** `LOG_FORMAT`: one JSON object per line, or human-readable lines (pino-pretty). */
export type LogFormat = 'json' | 'pretty';

export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

const PINO_LEVELS: Record<LogLevel, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** The pino level of a Nest level (`LOG_LEVEL`): `log` is `info`, `verbose` is `trace`; unknown is `info`. */
export function pinoLevel(level: string | undefined): Level {
  return PINO_LEVELS[level as LogLevel] ?? 'info';
}

/** `LOG_FORMAT` when set, else `pretty` when `NODE_ENV=development` and `json` otherwise. */
export function logFormat(format: string | undefined, nodeEnv: string | undefined): LogFormat {
  if (format && (LOG_FORMATS as readonly string[]).includes(format)) return format as LogFormat;
  return nodeEnv === 'development' ? 'pretty' : 'json';
}
