/** What the OpenTelemetry environment variables of a process ask of tracing. */
export interface TracingSettings {
  /** `false` when `OTEL_SDK_DISABLED=true`: no SDK, no spans, no `traceparent` on events. */
  enabled: boolean;
  /** `service.name` of the spans: `OTEL_SERVICE_NAME`, else the process's own name. */
  serviceName: string;
  /** The OTLP/HTTP traces URL spans are exported to; unset: spans are not exported. */
  tracesUrl?: string;
}

/** `service.name` when neither `OTEL_SERVICE_NAME` nor the caller names the process. */
export const DEFAULT_SERVICE_NAME = 'platform';

/**
 * Reads `OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as
 * is) and `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces` appended), as the OpenTelemetry spec and the
 * OTLP exporter read them: an empty value counts as unset.
 */
export function tracingSettings(env: NodeJS.ProcessEnv, fallbackServiceName = DEFAULT_SERVICE_NAME): TracingSettings {
  const serviceName = value(env.OTEL_SERVICE_NAME) ?? fallbackServiceName;
  if (value(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return { enabled: false, serviceName };
  const traces = value(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const base = value(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const tracesUrl = traces ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  return { enabled: true, serviceName, tracesUrl };
}

/** `Order service` -> `order-service`: a service name from an app's title. */
export function serviceNameOf(title: string): string {
  const name = title
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name || DEFAULT_SERVICE_NAME;
}

function value(raw: string | undefined): string | undefined {
  const trimmed = raw?.trim();
  return trimmed ? trimmed : undefined;
}
