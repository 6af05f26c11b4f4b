import { isSpanContextValid, trace } from '@opentelemetry/api';
import { currentDelivery } from '@nest-streams/event-bus';

/** What a line logged while a delivery is handled says about it. */
export interface DeliveryLogFields {
  eventId: string;
  eventType: string;
  correlationId?: string;
  causationId?: string;
  group: string;
  stream: string;
  entryId: string;
  /** The delivery count: 1 on the first attempt. */
  attempt: number;
}

/** The active OpenTelemetry span of a line, when there is one. */
export interface TraceLogFields {
  traceId: string;
  spanId: string;
}

/**
 * pino `mixin`: the delivery being handled by the current async chain (`currentDelivery()`) and
 * the active OpenTelemetry span, as fields of every line. Runs once per line that passes the level.
 */
export function logContextFields(): Partial<DeliveryLogFields & TraceLogFields> {
  // NOTE: a fresh object every time: pino merges the line's own fields into what the mixin returns.
  const fields: Partial<DeliveryLogFields & TraceLogFields> = {};
  const delivery = currentDelivery();
  if (delivery) {
    const { envelope } = delivery;
    fields.eventId = envelope.id;
    fields.eventType = envelope.type;
    fields.correlationId = envelope.correlationid;
    fields.causationId = envelope.causationid;
    fields.group = delivery.group;
    fields.stream = delivery.stream;
    fields.entryId = delivery.entryId;
    fields.attempt = delivery.deliveryCount;
  }
  const span = trace.getActiveSpan();
  if (span) {
    const context = span.spanContext();
    if (isSpanContextValid(context)) {
      fields.traceId = context.traceId;
      fields.spanId = context.spanId;
    }
  }
  return fields;
}
