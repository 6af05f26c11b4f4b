/**
 * Keys of the flow index, beside the bus's own under its namespace; each but the names expires
 * `FLOW_INDEX_TTL_SECONDS` after the last write to it (an id bucket an hour later).
 *
 * | key | type | what |
 * |---|---|---|
 * | `<ns>:flow:events:{<correlationid>}` | list | the flow's events and dead letters: one compact record each (flow-entry.ts) |
 * | `<ns>:flow:subject:<subject>` | sorted set | correlation ids of the flows with events about `subject`, by latest entry time |
 * | `<ns>:flow:names` | hash | the codes records write instead of stream, type and source names (flow-names.ts; no expiry) |
 * | `<ns>:flow:ids:<YYYYMMDDHH>` | hash | event id to correlation id, for the events indexed in that hour (UTC) that are neither a flow's correlation id nor `<subject>:<suffix>` |
 */
export class FlowKeys {
  constructor(readonly namespace: string) {}

  flow(correlationId: string): string {
    return `${this.namespace}:flow:events:{${correlationId}}`;
  }

  /** The codes of stream, type and source names (FlowNames). */
  names(): string {
    return `${this.namespace}:flow:names`;
  }

  subject(subject: string): string {
    return `${this.namespace}:flow:subject:${subject}`;
  }

  /** The id bucket of the hour (UTC) of `ms`. */
  ids(ms: number): string {
    return `${this.namespace}:flow:ids:${new Date(ms).toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
  }

  /** Every id bucket that may still exist at `now` with a TTL of `ttlSeconds`, newest first. */
  idBuckets(now: number, ttlSeconds: number): string[] {
    const hour = 3_600_000;
    const hours = Math.ceil((ttlSeconds * 1000) / hour) + 2;
    return Array.from({ length: hours }, (_, i) => this.ids(now - i * hour));
  }
}
