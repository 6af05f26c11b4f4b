import { INestApplication, Logger, LogLevel, Type, ValidationPipe } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Environment } from './environment';

export interface AppDescription {
  title: string;
  description: string;
}

/** A platform app with its global pipes, Swagger at /docs (JSON at /docs-json) and shutdown hooks. */
export async function createPlatformApp(rootModule: Type, about: AppDescription): Promise<INestApplication> {
  const app = await NestFactory.create(rootModule, { logger: logLevels(process.env.LOG_LEVEL) });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(about.title).setDescription(about.description).setVersion('0.1.0').build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  app.enableShutdownHooks();
  return app;
}

/** Listens on PORT and says where. */
export async function listen(app: INestApplication): Promise<void> {
  const port = app.get(ConfigService<Environment, true>).get('PORT', { infer: true });
  await app.listen(port);
  new Logger('Platform').log(`listening on ${await app.getUrl()} (Swagger at /docs)`);
}

/** `main.ts` of a service: create, listen, and end with a clear message on a bad start. */
export function runMain(load: () => Promise<INestApplication>): void {
  load()
    .then(listen)
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** LOG_LEVEL=warn keeps fatal, error and warn. */
export function logLevels(level = 'log'): LogLevel[] {
  const at = LEVELS.indexOf(level as LogLevel);
  return LEVELS.slice(0, at < 0 ? 4 : at + 1);
}
