/** Envelope fields an emitted event may set (the others are stamped by the client). */
export interface RedisStreamsRecordOptions {
  /** The ordering key: events of one subject are handled one after another, in stream order (and share a partition). */
  subject?: string;
  /** The event id (a UUID when not set); a retry with the same id is skipped by consumers that already handled it. */
  id?: string;
  correlationId?: string;
  causationId?: string;
}

/**
 * A payload with envelope options, as Nest's `RmqRecord` and `MqttRecord` are:
 * `client.emit('order.placed', new RedisStreamsRecord(order, { subject: order.id }))`.
 */
export class RedisStreamsRecord<T = unknown> {
  constructor(
    readonly data: T,
    readonly options: RedisStreamsRecordOptions = {},
  ) {}
}
