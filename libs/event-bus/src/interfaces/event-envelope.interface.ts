/**
 * An event as it travels: the CloudEvents 1.0 attributes of docs/contract.md section 1, flat, with
 * `data` already parsed.
 */
export interface EventEnvelope<T = unknown> {
  specversion: string;
  id: string;
  type: string;
  version: number;
  source: string;
  time: string;
  datacontenttype: string;
  data: T;
  subject?: string;
  correlationid?: string;
  causationid?: string;
  traceparent?: string;
  tracestate?: string;
}

/** Envelope fields a publisher may set; the rest are filled in by the publisher. */
export interface PublishOptions {
  /** The entity the fact is about; entries with one subject are handled in order. */
  subject?: string;
  /** @default the id generated for the event */
  id?: string;
  /** @default the correlation id of the event being handled, else the new event's id */
  correlationId?: string;
  /** @default the id of the event being handled, if any */
  causationId?: string;
  /** @default now */
  time?: Date;
  traceparent?: string;
  tracestate?: string;
}
