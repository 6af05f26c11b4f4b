/**
 * Keys of the flow index, beside the bus's own under its namespace; each expires
 * `FLOW_INDEX_TTL_SECONDS` after the last event written to it.
 *
 * | key | type | what |
 * |---|---|---|
 * | `<ns>:flow:{<correlationid>}` | sorted set | the flow's events and dead letters (compact JSON, see flow-entry.ts), by entry time |
 * | `<ns>:flow:event:<eventId>` | string | the event's correlation id |
 * | `<ns>:flow:subject:<subject>` | sorted set | correlation ids of the flows with events about `subject`, by latest entry time |
 */
export class FlowKeys {
  constructor(readonly namespace: string) {}

  flow(correlationId: string): string {
    return `${this.namespace}:flow:{${correlationId}}`;
  }

  event(eventId: string): string {
    return `${this.namespace}:flow:event:${eventId}`;
  }

  subject(subject: string): string {
    return `${this.namespace}:flow:subject:${subject}`;
  }
}
