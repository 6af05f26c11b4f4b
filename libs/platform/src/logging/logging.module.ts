import { DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule, Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Environment } from '../environment';
import { httpLogOptions } from './http-logging';
import { logFormat, pinoLevel } from './log-settings';
import { createRootLogger } from './root-logger';

export interface LoggingOptions {
  /** `name` on every line. @default undefined (no name) */
  name?: string;
  /** Where log lines go (a test passes a stream to read them back). @default process.stdout */
  destination?: DestinationStream;
}

/**
 * nestjs-pino's LoggerModule configured from the environment (`LOG_LEVEL`, `LOG_FORMAT`,
 * `NODE_ENV`), with one line per HTTP request. `usePlatformLogger(app)` routes Nest's `Logger` to it.
 * One per process: nestjs-pino keeps the first app's logger for every line logged outside a request.
 */
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingOptions = {}): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<Environment, true>): Params => {
            const logger = createRootLogger({
              name: options.name,
              level: pinoLevel(config.get('LOG_LEVEL', { infer: true })),
              format: logFormat(config.get('LOG_FORMAT', { infer: true }), process.env.NODE_ENV),
              destination: options.destination,
            });
            return { pinoHttp: { ...httpLogOptions(), logger } };
          },
        }),
      ],
    };
  }
}
