import { Logger } from '@nestjs/common';
import { ProxyTracerProvider, trace, TracerProvider } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { logOpenTelemetryDiagnostics } from './diag-logger';
import { DEFAULT_SERVICE_NAME, TracingSettings, tracingSettings } from './tracing-settings';

/** How long flushing the spans still queued may hold up a shutdown. */
export const TRACING_FLUSH_TIMEOUT_MS = 5_000;

export interface TracingOptions {
  /** `service.name` when `OTEL_SERVICE_NAME` is unset. @default 'platform' */
  serviceName?: string;
  /**
   * Span processors to use instead of the one the environment asks for (an OTLP exporter behind a
   * BatchSpanProcessor, or none). Tests pass `new SimpleSpanProcessor(new InMemorySpanExporter())`.
   * @default from the environment
   */
  spanProcessors?: SpanProcessor[];
}

/** This process's tracing, as `setupTracing()` left it. */
export interface Tracing {
  /** Spans are recorded and `traceparent` propagates (by our SDK or one registered before it). */
  readonly enabled: boolean;
  readonly settings: TracingSettings;
  /** One line for the startup log: on or off, and where spans go. */
  readonly summary: string;
  /** Exports the spans still queued (waits at most TRACING_FLUSH_TIMEOUT_MS; never throws). */
  flush(): Promise<void>;
  /** Flushes, then stops the provider for good: later spans are dropped, `traceparent` still propagates. */
  shutdown(): Promise<void>;
}

let registered: Tracing | undefined;
let latest: Tracing | undefined;

/**
 * Registers the OpenTelemetry SDK of this process, once: a NodeTracerProvider with the
 * AsyncLocalStorage context manager and the W3C trace-context propagator, so that
 * `@nest-streams/event-bus` and the HTTP middleware record spans and stamp `traceparent` on what they send.
 * Spans are exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set; otherwise none is exported but trace context still
 * propagates. `OTEL_SDK_DISABLED=true` registers nothing. Call it before the app is created.
 * A later call returns what the first one set up.
 */
export function setupTracing(options: TracingOptions = {}): Tracing {
  if (registered) {
    if (options.spanProcessors) {
      throw new Error(
        'Tracing is already set up in this process: pass spanProcessors to the first setupTracing() call, before the app is created',
      );
    }
    return registered;
  }
  const settings = tracingSettings(process.env, options.serviceName ?? DEFAULT_SERVICE_NAME);
  // NOTE: not remembered, so that a process (a test file) may still set tracing up after an app without it.
  if (!settings.enabled) return (latest = disabled(settings));

  const exporting = !options.spanProcessors && settings.tracesUrl !== undefined;
  const spanProcessors = options.spanProcessors ?? (exporting ? [new BatchSpanProcessor(new OTLPTraceExporter())] : []);
  const provider = new NodeTracerProvider({
    // NOTE: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over the name given here.
    resource: defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }))
      .merge(detectResources({ detectors: [envDetector] })),
    spanProcessors,
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });

  if (delegateOf(trace.getTracerProvider()) !== provider) {
    // NOTE: another SDK (e.g. node --require @opentelemetry/auto-instrumentations-node/register) got there first: it stays in charge.
    void provider.shutdown();
    registered = latest = handle(
      settings,
      true,
      'Tracing: an OpenTelemetry SDK was registered before ours; its configuration decides where spans go',
    );
    return registered;
  }
  logOpenTelemetryDiagnostics();
  const where = options.spanProcessors
    ? `spans go to the ${options.spanProcessors.length} span processor(s) given`
    : exporting
      ? `spans exported over OTLP/HTTP to ${settings.tracesUrl}`
      : 'traceparent propagates, spans are not exported (set OTEL_EXPORTER_OTLP_ENDPOINT to export them)';
  registered = latest = handle(settings, true, `Tracing on as service "${settings.serviceName}": ${where}`, provider);
  return registered;
}

/** What the latest `setupTracing()` call of this process left, if there was one. */
export function activeTracing(): Tracing | undefined {
  return latest;
}

function delegateOf(provider: TracerProvider): TracerProvider {
  return provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
}

function disabled(settings: TracingSettings): Tracing {
  return handle(settings, false, 'Tracing off (OTEL_SDK_DISABLED=true): no spans, no traceparent on events');
}

function handle(settings: TracingSettings, enabled: boolean, summary: string, provider?: NodeTracerProvider): Tracing {
  let stopped: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    if (!provider || stopped) return;
    // NOTE: an unreachable collector must not hold up or fail a shutdown.
    await provider.forceFlush({ timeoutMillis: TRACING_FLUSH_TIMEOUT_MS }).catch((errors: unknown) => {
      const reason = [errors]
        .flat()
        .map((e) => (e instanceof Error ? e.message : String(e)))
        .join('; ');
      new Logger('Tracing').warn(
        `spans still queued were not all exported (${settings.tracesUrl ?? 'span processors'}): ${reason}`,
      );
    });
  };
  return {
    enabled,
    settings,
    summary,
    flush,
    shutdown() {
      stopped ??= flush().then(() => provider?.shutdown().catch(() => undefined));
      return stopped;
    },
  };
}
