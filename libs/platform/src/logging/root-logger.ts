import pino, { DestinationStream, Level, Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { REDACTED_PATHS } from './http-logging';
import { logContextFields } from './log-context';
import type { LogFormat } from './log-settings';

export interface RootLoggerOptions {
  /** `name` of every line: the service. */
  name?: string;
  level: Level;
  format: LogFormat;
  /** Where lines go. @default process.stdout */
  destination?: DestinationStream;
}

/** Fields the pretty format leaves out: the request line already says method, url, status and time. */
const PRETTY_IGNORE = 'pid,hostname,context,req,res,responseTime';

/**
 * The process's pino logger: JSON lines with an ISO `time`, the level as a word, the delivery and
 * trace fields of `logContextFields()`, secrets redacted; or the same lines made human-readable.
 */
export function createRootLogger(options: RootLoggerOptions): Logger {
  const sink = options.destination ?? process.stdout;
  return pino(
    {
      name: options.name,
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: logContextFields,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.format === 'pretty' ? prettyStream(sink, options.destination === undefined) : sink,
  );
}

/**
 * pino-pretty in this thread, line by line: nothing to flush at exit, unlike a transport's worker.
 */
function prettyStream(sink: DestinationStream, terminal: boolean): DestinationStream {
  const prettify = prettyFactory({
    ignore: PRETTY_IGNORE,
    messageFormat: '{if context}[{context}] {end}{msg}',
    translateTime: 'SYS:HH:MM:ss.l',
    singleLine: true,
    ...(terminal ? {} : { colorize: false }),
  });
  return { write: (line: string) => sink.write(prettify(line)) };
}
