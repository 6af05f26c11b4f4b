import { INestApplication, Logger, LogLevel, ValidationPipe } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Environment } from '@app/platform';
import { AppModule } from './app.module';

/** Creates the platform app with its global pipes and Swagger at /docs (tests call this too). */
export async function createApp(): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule, { logger: logLevels(process.env.LOG_LEVEL) });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle('Event platform').setDescription('Services and operations of the Redis Streams event platform').setVersion('0.1.0').build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  app.enableShutdownHooks();
  return app;
}

export async function listen(app: INestApplication): Promise<void> {
  const port = app.get(ConfigService<Environment, true>).get('PORT', { infer: true });
  await app.listen(port);
  new Logger('Platform').log(`listening on ${await app.getUrl()} (Swagger at /docs)`);
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** LOG_LEVEL=warn keeps fatal, error and warn. */
function logLevels(level = 'log'): LogLevel[] {
  const at = LEVELS.indexOf(level as LogLevel);
  return LEVELS.slice(0, at < 0 ? 4 : at + 1);
}
