import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';

/** Name of the platform's tracer (instrumentation scope). */
export const PLATFORM_TRACER_NAME = '@app/platform';
/**
 * The response header that tells a client the trace and span of its request
 * (W3C Trace Context Level 2: `00-<trace-id>-<server-span-id>-<flags>`).
 */
export const TRACE_RESPONSE_HEADER = 'traceresponse';
/** Paths no span is made for: probes and scrapes, several a second. */
export const UNTRACED_PATHS = /^\/(?:health|metrics)(?:[/?]|$)/;

/** What Express adds to a request that this middleware reads. */
interface ExpressRequest extends IncomingMessage {
  originalUrl?: string;
  baseUrl?: string;
  protocol?: string;
  route?: { path?: unknown };
}

const tracer = trace.getTracer(PLATFORM_TRACER_NAME);

/**
 * Express middleware: one SERVER span per request, named `<METHOD> <route>` (`POST /orders`,
 * `GET /orders/:orderId`; the method alone when no route matched), a child of the caller's
 * `traceparent` when one came in. The rest of the request (Nest's guards, pipes, controllers, and
 * the events they publish) runs inside it. 5xx marks the span failed; the `traceresponse` header
 * gives the client its trace id. Register it before every other middleware.
 */
export function httpTracing(untraced: RegExp = UNTRACED_PATHS) {
  return (req: ExpressRequest, res: ServerResponse, next: () => void): void => {
    const path = pathOf(req);
    if (untraced.test(path)) return next();
    const method = req.method ?? 'GET';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_URL_PATH]: path,
          [ATTR_URL_SCHEME]: req.protocol ?? 'http',
          [ATTR_NETWORK_PROTOCOL_VERSION]: req.httpVersion,
          [ATTR_CLIENT_ADDRESS]: req.socket.remoteAddress,
          [ATTR_USER_AGENT_ORIGINAL]: req.headers['user-agent'],
        },
      },
      parent,
    );
    if (span.isRecording()) res.setHeader(TRACE_RESPONSE_HEADER, traceResponse(span.spanContext()));

    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      const route = routeOf(req);
      if (route) {
        span.updateName(`${method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      if (!res.writableFinished) {
        // NOTE: 'close' before 'finish': the client went away before the response was sent.
        span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'the connection closed before the response was sent' });
      } else {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
        if (res.statusCode >= 500) {
          span.setAttribute(ATTR_ERROR_TYPE, String(res.statusCode));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}

/** The path as requested: Express rewrites `req.url` below a mount point, not `originalUrl`. */
function pathOf(req: ExpressRequest): string {
  const url = req.originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** The route template Express matched (`/orders/:orderId`), known once the request was routed. */
function routeOf(req: ExpressRequest): string | undefined {
  const path = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : undefined;
}

function traceResponse(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
