/** The shapes of the operations API (`/ops`) the CLI reads; the platform's controllers are authoritative. */

export interface StreamInfo {
  stream: string;
  length: number;
  firstId: string | null;
  lastId: string | null;
  firstTime: string | number | null;
  lastTime: string | number | null;
  /** A count, or the groups' names. */
  groups: number | string[] | unknown;
  retention: unknown;
  deadLetters: number;
}

export interface ConsumerInfo {
  name: string;
  idleMs: number;
  pending: number;
  /** Partitioned streams only: the partition whose consumer group it reads. */
  partition?: number;
}

export interface GroupInfo {
  group: string;
  lag: number | null;
  pending: number;
  lastDeliveredId: string;
  consumers: ConsumerInfo[];
}

export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

export interface StreamEntry {
  id: string;
  time: string;
  type: string;
  version: number | string;
  source: string;
  subject?: string | null;
  eventId: string;
  correlationId?: string | null;
  causationId?: string | null;
  data: unknown;
}

export interface EntriesPage {
  entries: StreamEntry[];
  nextCursor: string | null;
}

export type ReplayTargetKind = 'handlers' | 'position' | 'new-group';
export const REPLAY_TARGETS: ReplayTargetKind[] = ['handlers', 'position', 'new-group'];

export interface ReplayRequestBody {
  stream: string;
  from?: string;
  to?: string;
  target: { kind: ReplayTargetKind; group: string };
  dryRun: boolean;
  ratePerSec?: number;
  bypassDedupe: boolean;
}

export type ReplayState = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';
export const FINAL_REPLAY_STATES: ReplayState[] = ['completed', 'cancelled', 'failed'];

export interface ReplayStatus {
  id: string;
  state: ReplayState;
  done: number;
  total: number;
  /** Measured entries per second since the replay started. */
  ratePerSec?: number | null;
  /** The requested limit, when one was given. */
  ratePerSecLimit?: number | null;
  /** Seconds left at the measured rate; null when unknown, 0 when finished. */
  etaSeconds?: number | null;
  error?: string | null;
}

export interface DeadLetter {
  /** `p<k>/<ms>-<seq>` on partitioned streams. */
  id: string;
  /** Partitioned streams only: the partition whose dead-letter stream holds it. */
  partition?: number;
  reason: string;
  error: string;
  stream: string;
  entryId: string;
  group: string;
  consumer: string;
  handler: string;
  attempts: number;
  deadLetteredAt: string;
  eventId: string;
  type: string;
  envelope: Record<string, string>;
}

/** Which dead letters a redrive or purge applies to (the library's `DeadLetterFilter`). */
export interface DeadLetterFilterBody {
  ids?: string[];
  group?: string;
  reason?: string;
  type?: string;
  all?: boolean;
}

export interface PublishBody {
  type: string;
  version?: number;
  data: unknown;
  subject?: string;
}

export interface Published {
  id: string;
  entryId: string;
  stream: string;
}

export type FlowGroupState = 'handled' | 'pending' | 'dead-lettered' | 'acknowledged' | 'not-delivered-yet';

/** What one consumer group did with one event of a flow. */
export interface FlowGroup {
  group: string;
  status: FlowGroupState | string;
  handledAt: string | null;
  attempts: number | null;
  consumer: string | null;
  idleMs: number | null;
  deadLetter?: {
    id: string;
    reason: string;
    error: string;
    handler: string;
    attempts: number | null;
    deadLetteredAt: string | null;
  };
}

export interface FlowNode {
  stream: string;
  entryId: string;
  eventId: string;
  type: string | null;
  version: number | null;
  source: string | null;
  subject: string | null;
  time: string | null;
  causationId: string | null;
  groups: FlowGroup[];
  children: FlowNode[];
}

/** `GET /ops/flows/:id`. */
export interface FlowView {
  correlationId: string;
  resolvedFrom: 'correlation-id' | 'event-id' | 'subject';
  events: number;
  truncated: boolean;
  otherCorrelationIds: string[];
  tree: FlowNode[];
}
