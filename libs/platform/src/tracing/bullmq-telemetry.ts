import { context, INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { SpanKind } from 'bullmq';
import type { Telemetry } from 'bullmq';
import { BullMQOtel, BullMQOTelSpan } from 'bullmq-otel';

/**
 * BullMQ telemetry for the platform's queues and workers (bullmq-otel over the global
 * OpenTelemetry API: nothing is recorded until an SDK is registered). Adding a job is a PRODUCER
 * span in the caller's trace and carries its context in the job; the worker's processing is a
 * CONSUMER span under it, so a mail sent for an event, or a replay asked for over HTTP, sits in
 * the trace that caused it.
 *
 * BullMQ also wraps its own housekeeping in INTERNAL spans (`getNextJob` on every fetch, stalled
 * checks, `close`): outside a request those would each start a trace of their own every few
 * seconds. They are not recorded; code they run keeps the caller's span as its parent.
 */
export function bullmqTelemetry(): Telemetry<Context> {
  const otel = new BullMQOtel({ tracerName: 'bullmq' });
  return {
    contextManager: otel.contextManager,
    tracer: {
      startSpan: (name, options, parent) => {
        if (options?.kind !== SpanKind.INTERNAL) return otel.tracer.startSpan(name, options, parent);
        const active = trace.getSpanContext(parent ?? context.active()) ?? INVALID_SPAN_CONTEXT;
        return new BullMQOTelSpan(trace.wrapSpanContext(active));
      },
    },
  };
}
