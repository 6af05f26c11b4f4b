import type { INestApplication } from '@nestjs/common';
import { Logger } from 'nestjs-pino';

/**
 * Makes every Nest `Logger` of the process write through the LoggingModule's pino logger, and
 * prints what was logged (buffered, `bufferLogs: true`) while the app was created.
 */
export function usePlatformLogger(app: INestApplication): void {
  let logger: Logger;
  try {
    logger = app.get(Logger);
  } catch (error) {
    // NOTE: without LoggingModule the buffered lines would otherwise never be printed.
    app.flushLogs();
    throw error;
  }
  app.useLogger(logger);
}
