import {
  Body,
  Controller,
  Get,
  HttpCode,
  INestApplication,
  InternalServerErrorException,
  Module,
  Param,
  Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import request from 'supertest';
import { httpTracing, TRACE_RESPONSE_HEADER } from './http-tracing.middleware';
import { setupTracing, Tracing } from './setup-tracing';

const INCOMING_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING_SPAN = '00f067aa0ba902b7';

/** What the handler saw as its active span, after the body was parsed and an await. */
let seen: { traceId?: string; spanId?: string } = {};

@Controller()
class ProbeController {
  @Post('things/:id')
  @HttpCode(202)
  async post(@Param('id') _id: string, @Body() _body: object): Promise<object> {
    await new Promise((r) => setTimeout(r, 5));
    seen = {
      traceId: trace.getActiveSpan()?.spanContext().traceId,
      spanId: trace.getActiveSpan()?.spanContext().spanId,
    };
    return {};
  }

  @Get('boom')
  boom(): never {
    throw new InternalServerErrorException('boom');
  }

  @Get('health/live')
  live(): object {
    return { status: 'ok' };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

/** The SERVER span of each request, on a Nest app as createPlatformApp registers the middleware. */
describe('httpTracing', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let app: INestApplication;
  const server = async (): Promise<ReadableSpan[]> => {
    await tracing.flush();
    return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
  };

  beforeAll(async () => {
    tracing = setupTracing({ serviceName: 'probe', spanProcessors: [new SimpleSpanProcessor(exporter)] });
    app = await NestFactory.create<NestExpressApplication>(ProbeModule, { logger: false });
    app.use(httpTracing());
    (app as NestExpressApplication).useBodyParser('json');
    await app.init();
  });
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    await app?.close();
    await tracing?.shutdown();
  });

  it('continues the caller’s trace, is named after the route, and is the active span in the controller after the body was read', async () => {
    const res = await request(app.getHttpServer())
      .post('/things/42?x=1')
      .set('traceparent', `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01`)
      .send({ a: 1 })
      .expect(202);
    const [span] = await server();
    expect(span.name).toBe('POST /things/:id');
    expect(span.spanContext().traceId).toBe(INCOMING_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(INCOMING_SPAN);
    expect(span.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/things/:id',
      'url.path': '/things/42',
      'http.response.status_code': 202,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(seen).toEqual({ traceId: INCOMING_TRACE, spanId: span.spanContext().spanId });
    expect(res.headers[TRACE_RESPONSE_HEADER]).toBe(`00-${INCOMING_TRACE}-${span.spanContext().spanId}-01`);
  });

  it('starts a new trace without traceparent, and marks a 5xx as an error', async () => {
    const res = await request(app.getHttpServer()).get('/boom').expect(500);
    const [span] = await server();
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
    expect(res.headers[TRACE_RESPONSE_HEADER]).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
  });

  it('names an unrouted request by its method only, and a 404 is not an error', async () => {
    await request(app.getHttpServer()).get('/nowhere/123').expect(404);
    const [span] = await server();
    expect(span.name).toBe('GET');
    expect(span.attributes['http.route']).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('makes no span for /health', async () => {
    const res = await request(app.getHttpServer())
      .get('/health/live')
      .set('traceparent', `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01`)
      .expect(200);
    expect(await server()).toEqual([]);
    expect(res.headers[TRACE_RESPONSE_HEADER]).toBeUndefined();
  });
});
