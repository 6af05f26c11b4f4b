/** One `@Subscribe` binding, as the event catalogue shows it. */
export interface EventSubscription {
  /** The consumer group (one per subscribing service). */
  group: string;
  /** The service's CloudEvents `source` (`forFeature({ source })`), when the group is its module's. */
  service?: string;
  stream: string;
  type: string;
  /** `Class.method`. */
  handler: string;
}
