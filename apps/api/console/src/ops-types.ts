import type { TailEntry } from './live';

/** The /ops answers the stream screen reads (see apps/api/src/ops/groups and streams for the full DTOs). */
export interface Consumer {
  name: string;
  idleMs: number;
  pending: number;
  partition?: number;
}

export interface Group {
  group: string;
  lag: number | null;
  pending: number;
  lastDeliveredId: string;
  consumers: Consumer[];
}

export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

export interface PositionPreview {
  from: string;
  lastDeliveredId: string;
  redeliver: number;
  replay: number;
  skip: number;
}

/** An entry as /ops shows it (the same shape as a tail's). */
export type StreamEntry = TailEntry;

export interface EntryPage {
  entries: StreamEntry[];
  nextCursor: string | null;
}
