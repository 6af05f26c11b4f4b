/** What `@EventContract` declares about an event class. */
export interface EventContractOptions {
  /** The event's name, a past-tense fact: `OrderPlaced`. */
  type: string;
  /** Schema version of the payload. @default 1 */
  version?: number;
  /** The logical stream the event is published to: `orders`. */
  stream: string;
  /** Payload field whose value becomes the envelope `subject` (ordering key) when the publisher gives none. */
  subjectField?: string;
  /**
   * The services that publish this version (their CloudEvents `source`, e.g. `order-service`),
   * for the event catalogue. Documentation only: nothing stops another service publishing it.
   * @default []
   */
  producedBy?: string[];
}

export interface EventContractMetadata {
  type: string;
  version: number;
  stream: string;
  subjectField?: string;
  producedBy?: string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventClass<T extends object = object> = new (...args: any[]) => T;
