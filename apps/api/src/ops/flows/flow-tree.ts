import { compareIds } from '@nest-streams/event-bus/utils/stream-ids';
import { readMarker } from '@nest-streams/event-bus/consumer/dedupe.guard';
import type { IndexedDeadLetter, IndexedEntry } from './flow-entry';

export type FlowGroupState = 'handled' | 'pending' | 'dead-lettered' | 'acknowledged' | 'not-delivered-yet';

export interface FlowDeadLetter {
  /** The dead letter's entry id in `<stream>:dlq`; `p<k>/<entryId>` on partitioned streams (as the dead-letters API names it). */
  id: string;
  reason: string;
  error: string;
  handler: string;
  attempts: number | null;
  deadLetteredAt: string | null;
}

/** What one consumer group did with one event. */
export interface FlowGroupStatus {
  group: string;
  status: FlowGroupState;
  /** When its handler succeeded (from the dedupe marker); null when the marker does not say. */
  handledAt: string | null;
  /** Deliveries: of the successful one (handled), so far (pending), before giving up (dead-lettered). */
  attempts: number | null;
  /** The consumer holding it (pending) or that gave it up (dead-lettered). */
  consumer: string | null;
  /** ms since it was last delivered (pending). */
  idleMs: number | null;
  /** The group's latest dead letter of this event, even when a redrive was handled since. */
  deadLetter?: FlowDeadLetter;
}

/** An event of the flow, with what each group of its stream did with it, and the events it caused. */
export interface FlowNode {
  stream: string;
  entryId: string;
  /** The partition of the stream whose key holds the entry; only when streams are partitioned. */
  partition?: number;
  eventId: string;
  type: string | null;
  version: number | null;
  source: string | null;
  subject: string | null;
  time: string | null;
  causationId: string | null;
  groups: FlowGroupStatus[];
  children: FlowNode[];
}

/** What Redis said of one (event, group): the inputs of `groupStatus`. */
export interface GroupFacts {
  group: string;
  /** The group's last-delivered-id on the event's stream. */
  lastDeliveredId: string;
  /** The dedupe marker's value, null without one. */
  marker: string | null;
  /** The event's entry in the group's PEL: `[id, consumer, idle ms, deliveries]`. */
  pending?: [string, string, number, number];
  deadLetter?: IndexedDeadLetter;
}

/**
 * Handled (a final dedupe marker), else pending (in the PEL), else handled (a claim whose entry is
 * no longer pending: acknowledged at its first delivery; `handledAt` is when that delivery
 * claimed it), else dead-lettered, else acknowledged (at or before the group's position, no
 * marker: no handler for the type, dedupe off, the marker expired, or the group was created
 * after the event), else not delivered yet.
 */
export function groupStatus(entryId: string, facts: GroupFacts): FlowGroupStatus {
  const status: FlowGroupStatus = {
    group: facts.group,
    status: 'acknowledged',
    handledAt: null,
    attempts: null,
    consumer: null,
    idleMs: null,
  };
  const dead = facts.deadLetter;
  if (dead) {
    const id = dead.partition === undefined ? dead.deadLetterId : `p${dead.partition}/${dead.deadLetterId}`;
    status.deadLetter = {
      id,
      reason: dead.reason,
      error: dead.error,
      handler: dead.handler,
      attempts: dead.attempts,
      deadLetteredAt: dead.deadletteredat,
    };
  }
  const marker = readMarker(facts.marker);
  const handled = (at: number | null, attempts: number | null): FlowGroupStatus => ({
    ...status,
    status: 'handled',
    handledAt: at === null ? null : new Date(at).toISOString(),
    attempts,
  });
  if (marker?.kind === 'handled') return handled(marker.at, marker.attempts);
  if (facts.pending) {
    const [, consumer, idle, deliveries] = facts.pending;
    return { ...status, status: 'pending', consumer, idleMs: Number(idle), attempts: Number(deliveries) };
  }
  // NOTE: a dead letter releases its claim; a claim held by this very entry next to its dead letter is not a success.
  if (marker?.kind === 'claimed' && !(dead && marker.source === 'live' && marker.entryId === entryId))
    return handled(marker.at, 1);
  if (dead) return { ...status, status: 'dead-lettered', consumer: dead.consumer || null, attempts: dead.attempts };
  return { ...status, status: compareIds(entryId, facts.lastDeliveredId) <= 0 ? 'acknowledged' : 'not-delivered-yet' };
}

/**
 * The flow's nodes, one per stream entry: events as indexed, plus one for each event known only
 * from a dead letter (its entry was trimmed before the indexer saw it). Oldest entry first.
 */
export function flowNodes(entries: IndexedEntry[]): FlowNode[] {
  const nodes = new Map<string, FlowNode>();
  const add = (e: IndexedEntry): void => {
    const key = nodeKey(e);
    if (nodes.has(key)) return;
    nodes.set(key, {
      stream: e.stream,
      entryId: e.entryId,
      ...(e.partition === undefined ? {} : { partition: e.partition }),
      eventId: e.id,
      type: e.type,
      version: e.version,
      source: e.source,
      subject: e.subject,
      time: e.time,
      causationId: e.causationid,
      groups: [],
      children: [],
    });
  };
  for (const e of entries) if (e.kind === 'event') add(e);
  for (const e of entries) if (e.kind === 'dead-letter' && !hasEvent(nodes, e)) add(e);
  return [...nodes.values()].sort(
    (a, b) =>
      compareIds(a.entryId, b.entryId) || a.stream.localeCompare(b.stream) || (a.partition ?? 0) - (b.partition ?? 0),
  );
}

/** A stream entry's identity: entry ids are unique only within one partition's key. */
function nodeKey(e: { stream: string; entryId: string; partition?: number }): string {
  return `${e.stream} ${e.partition ?? 0} ${e.entryId}`;
}

function hasEvent(nodes: Map<string, FlowNode>, dead: IndexedDeadLetter): boolean {
  if (nodes.has(nodeKey(dead))) return true;
  // NOTE: a redriven letter that failed again names its redrive-stream entry; the event is the same.
  for (const n of nodes.values()) if (n.stream === dead.stream && n.eventId === dead.id) return true;
  return false;
}

/**
 * Nests `nodes` (oldest first) by causation: a node is a child of the first earlier node whose
 * event id is its causation id; nodes whose cause is not in the flow are roots. Siblings keep
 * entry order. Only earlier nodes can be parents, so no cycle can hide a node.
 */
export function buildFlowTree(nodes: FlowNode[]): FlowNode[] {
  const byEventId = new Map<string, FlowNode>();
  const roots: FlowNode[] = [];
  for (const node of nodes) {
    const parent = node.causationId ? byEventId.get(node.causationId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
    if (!byEventId.has(node.eventId)) byEventId.set(node.eventId, node);
  }
  return roots;
}
