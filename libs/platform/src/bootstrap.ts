import {
  BadRequestException,
  INestApplication,
  Logger,
  LogLevel,
  Type,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import type { Environment } from './environment';
import { usePlatformLogger } from './logging/use-platform-logger';
import { RedisUnavailableFilter } from './redis-unavailable';
import { httpTracing } from './tracing/http-tracing.middleware';
import { setupTracing } from './tracing/setup-tracing';
import { serviceNameOf } from './tracing/tracing-settings';

export interface AppDescription {
  title: string;
  description: string;
  /** `service.name` of the process's spans unless `OTEL_SERVICE_NAME` is set. @default the title in kebab-case (`order-service`) */
  service?: string;
}

/** Name of the Swagger security scheme of `x-api-key` (see `@ApiSecurity(API_KEY_SECURITY)`). */
export const API_KEY_SECURITY = 'api-key';
/** The header an API key travels in. */
export const API_KEY_HEADER = 'x-api-key';

/** One invalid field of a request, as every 400 from validation lists it. */
export interface FieldDetail {
  /** Dotted path: `target.group`, `items.0.quantity`. */
  field: string;
  messages: string[];
}

/**
 * A platform app with its global pipes, security headers (helmet), a request body limit
 * (`HTTP_BODY_LIMIT`, 413 as JSON), Swagger at /docs (JSON at /docs-json, `x-api-key` declared as
 * the `api-key` scheme), shutdown hooks, Nest's `Logger` writing pino lines (see LoggingModule), and
 * 503 + `Retry-After` for any request that fails because Redis is unreachable (RedisUnavailableFilter).
 * Sets up OpenTelemetry first (`setupTracing`) and gives every request a SERVER span (`httpTracing`).
 */
export async function createPlatformApp(rootModule: Type, about: AppDescription): Promise<INestApplication> {
  // NOTE: before the app exists, so that nothing it does runs without the SDK (see setupTracing).
  setupTracing({ serviceName: about.service ?? serviceNameOf(about.title) });
  // NOTE: the levels only matter if creating the app fails: then the buffered lines go to Nest's console logger.
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    logger: logLevels(process.env.LOG_LEVEL),
    bufferLogs: true,
  });
  usePlatformLogger(app);
  const bodyLimit = configured(app, 'HTTP_BODY_LIMIT') ?? '100kb';
  // NOTE: first, so that the SERVER span covers the whole request and everything after runs inside it.
  app.use(httpTracing());
  // NOTE: Swagger UI at /docs loads its scripts from 'self' and uses inline styles, which helmet's default CSP allows.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  // NOTE: registered before init so Nest does not add its own parsers; the error handler right
  // after them turns a body that is too large or not JSON into the JSON error shape.
  app.useBodyParser('json', { limit: bodyLimit });
  app.useBodyParser('urlencoded', { limit: bodyLimit, extended: true });
  app.use(bodyErrorHandler(bodyLimit));
  app.useGlobalFilters(new RedisUnavailableFilter(app.getHttpAdapter()));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: validationException,
    }),
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(about.title)
      .setDescription(about.description)
      .setVersion('0.1.0')
      .addApiKey({ type: 'apiKey', in: 'header', name: API_KEY_HEADER }, API_KEY_SECURITY)
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  app.enableShutdownHooks();
  return app;
}

/** `{ statusCode: 400, error, message: [every message], details: [{ field, messages }] }`. */
export function validationException(errors: ValidationError[]): BadRequestException {
  const details = fieldDetails(errors);
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: details.flatMap((d) => d.messages),
    details,
  });
}

function fieldDetails(errors: ValidationError[], parent: string[] = [], out: FieldDetail[] = []): FieldDetail[] {
  for (const error of errors) {
    const path = [...parent, error.property];
    // NOTE: nested messages get their parent path, as ValidationPipe's own messages do ("items.0.quantity must ...").
    const prefix = parent.length > 0 ? `${parent.join('.')}.` : '';
    const messages = Object.values(error.constraints ?? {}).map((m) => prefix + m);
    if (messages.length > 0) out.push({ field: path.join('.'), messages });
    if (error.children?.length) fieldDetails(error.children, path, out);
  }
  return out;
}

function configured<K extends keyof Environment>(app: INestApplication, name: K): Environment[K] | undefined {
  try {
    return app.get(ConfigService<Environment, true>, { strict: false }).get(name, { infer: true });
  } catch {
    return undefined;
  }
}

interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

function bodyErrorHandler(limit: string) {
  return (
    error: { status?: number; type?: string } | undefined,
    _req: unknown,
    res: JsonResponse,
    next: (error?: unknown) => void,
  ): void => {
    if (error?.status === 413 || error?.type === 'entity.too.large') {
      res
        .status(413)
        .json({ statusCode: 413, error: 'Payload Too Large', message: `request body is larger than ${limit}` });
    } else if (error?.type === 'entity.parse.failed') {
      res.status(400).json({ statusCode: 400, error: 'Bad Request', message: 'request body is not valid JSON' });
    } else if (error?.status && error.status >= 400 && error.status < 500) {
      res
        .status(error.status)
        .json({ statusCode: error.status, error: 'Bad Request', message: 'request body could not be read' });
    } else {
      next(error);
    }
  };
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
