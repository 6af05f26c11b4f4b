import type { EventEnvelope } from '../interfaces/event-envelope.interface';

/** Where a consumer reads from: the live stream, or the group's own redrive stream. */
export interface Source {
  /** Logical stream name the events belong to. */
  stream: string;
  /** The Redis key read. */
  key: string;
  kind: 'live' | 'redrive';
}

/** One stream entry on its way through a consumer. */
export interface Delivery {
  source: Source;
  entryId: string;
  fields: string[];
  envelope?: EventEnvelope<unknown>;
  /** Why the entry breaks the contract, when it does. */
  breach?: unknown;
  deliveryCount: number;
}

export const deliveryKey = (key: string, entryId: string): string => `${key} ${entryId}`;
