import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { activeTracing, setupTracing } from './setup-tracing';

/** Registration rules; each test file has its own OpenTelemetry globals, so this file starts with none. */
describe('setupTracing', () => {
  const before = { ...process.env };
  afterEach(() => {
    process.env = { ...before };
  });

  it('with OTEL_SDK_DISABLED=true registers nothing, and does not stop a later call from registering', () => {
    process.env.OTEL_SDK_DISABLED = 'true';
    const off = setupTracing();
    expect(off.enabled).toBe(false);
    expect(activeTracing()).toBe(off);
    expect(trace.getTracer('t').startSpan('s').isRecording()).toBe(false);
  });

  it('leaves an SDK registered before it in charge, and later calls return the same handle', () => {
    // Tried: an SDK that another tool (e.g. --require auto-instrumentations) registered first.
    const theirs = new InMemorySpanExporter();
    new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(theirs)] }).register();
    const tracing = setupTracing({ serviceName: 'mine' });
    expect(tracing.enabled).toBe(true);
    expect(tracing.summary).toMatch(/registered before ours/);
    trace.getTracer('t').startSpan('s').end();
    expect(theirs.getFinishedSpans().map((s) => s.name)).toEqual(['s']);
    expect(setupTracing()).toBe(tracing);
    expect(() => setupTracing({ spanProcessors: [] })).toThrow(/already set up/);
  });
});
