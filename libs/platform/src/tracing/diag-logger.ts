import { Logger } from '@nestjs/common';
import { diag, DiagLogFunction, DiagLogLevel } from '@opentelemetry/api';
import { diagLogLevelFromString } from '@opentelemetry/core';

/**
 * Routes OpenTelemetry's own diagnostics (an unreachable collector, spans dropped from a full
 * queue) to Nest log lines of context `OpenTelemetry`; without it they are silent. Level from
 * `OTEL_LOG_LEVEL` (`none`, `error`, `warn`, `info`, `debug`, `verbose`, `all`). @default warn
 */
export function logOpenTelemetryDiagnostics(
  level = diagLogLevelFromString(process.env.OTEL_LOG_LEVEL) ?? DiagLogLevel.WARN,
): void {
  const logger = new Logger('OpenTelemetry');
  const to =
    (write: (message: string) => void): DiagLogFunction =>
    (message, ...args) =>
      write([message, ...args.map(text)].join(' '));
  diag.setLogger(
    {
      error: to((m) => logger.error(m)),
      warn: to((m) => logger.warn(m)),
      info: to((m) => logger.log(m)),
      debug: to((m) => logger.debug(m)),
      verbose: to((m) => logger.verbose(m)),
    },
    { logLevel: level, suppressOverrideMessage: true },
  );
}

function text(arg: unknown): string {
  if (arg instanceof Error) return arg.message;
  if (typeof arg === 'string') return arg;
  try {
    return JSON.stringify(arg);
  } catch {
    return String(arg);
  }
}
