import { validateEnvironment } from '../environment';
import { serviceNameOf, tracingSettings } from './tracing-settings';

describe('tracingSettings', () => {
  it('records without exporting when no OTLP endpoint is set, named after the process', () => {
    expect(tracingSettings({}, 'order-service')).toEqual({
      enabled: true,
      serviceName: 'order-service',
      tracesUrl: undefined,
    });
  });

  it('exports to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces, or to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }).tracesUrl).toBe(
      'http://localhost:4318/v1/traces',
    );
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracesUrl).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(
      tracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/otlp/traces',
      }).tracesUrl,
    ).toBe('http://tempo:4318/otlp/traces');
  });

  it('takes OTEL_SERVICE_NAME over the process name, and treats empty values as unset', () => {
    expect(tracingSettings({ OTEL_SERVICE_NAME: 'shop' }, 'order-service').serviceName).toBe('shop');
    expect(tracingSettings({ OTEL_SERVICE_NAME: ' ', OTEL_EXPORTER_OTLP_ENDPOINT: '' }, 'order-service')).toEqual({
      enabled: true,
      serviceName: 'order-service',
      tracesUrl: undefined,
    });
  });

  it('is off with OTEL_SDK_DISABLED=true (any case), on with anything else', () => {
    expect(
      tracingSettings({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }).enabled,
    ).toBe(false);
    expect(tracingSettings({ OTEL_SDK_DISABLED: 'false' }).enabled).toBe(true);
  });
});

describe('serviceNameOf', () => {
  it('kebab-cases an app title', () => {
    expect(['Order service', 'Event platform', 'test', ' ** '].map(serviceNameOf)).toEqual([
      'order-service',
      'event-platform',
      'test',
      'platform',
    ]);
  });
});

describe('OTEL_* in validateEnvironment', () => {
  it('accepts collector URLs without a top-level domain, and empty values', () => {
    expect(() =>
      validateEnvironment({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://localhost:4318/v1/traces',
        OTEL_SDK_DISABLED: 'false',
        OTEL_SERVICE_NAME: 'orders',
      }),
    ).not.toThrow();
    expect(() => validateEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SDK_DISABLED: '' })).not.toThrow();
  });

  it('refuses a URL without scheme and a non-boolean OTEL_SDK_DISABLED, naming both', () => {
    expect(() =>
      validateEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318', OTEL_SDK_DISABLED: 'yes' }),
    ).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4318".*http\(s\) URL.*\n.*OTEL_SDK_DISABLED="yes": OTEL_SDK_DISABLED must be true or false/s,
    );
  });
});
