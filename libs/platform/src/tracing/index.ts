export { httpTracing, PLATFORM_TRACER_NAME, TRACE_RESPONSE_HEADER, UNTRACED_PATHS } from './http-tracing.middleware';
export {
  activeTracing,
  setupTracing,
  TRACING_FLUSH_TIMEOUT_MS,
  type Tracing,
  type TracingOptions,
} from './setup-tracing';
export { DEFAULT_SERVICE_NAME, serviceNameOf, tracingSettings, type TracingSettings } from './tracing-settings';
export { TracingModule } from './tracing.module';
