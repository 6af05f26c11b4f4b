import type { EventEnvelope } from '../interfaces/event-envelope.interface';
import type { RouteInstruments } from '../observability/metrics';
import type { HandlerBinding } from './binding';
import type { ClaimVerdict, DedupeBucket, SourceKind } from './dedupe.guard';

/** Where a consumer reads from: the live stream, or the group's own redrive or replay stream. */
export interface Source {
  /** Logical stream name the events belong to. */
  stream: string;
  /** The Redis key read. */
  key: string;
  kind: SourceKind;
  /** The partition the key belongs to (0 when streams are not partitioned). */
  partition: number;
  /** Entries of this source the consumer holds, by entry id. */
  held: Map<string, Delivery>;
  /** The group's handlers by event type, for this source's stream. */
  routes: Map<string, Route>;
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
  /** The group's handlers for this entry's type, when it has any. */
  route?: Route;
  /** The dedupe bucket of its event (shared), when the guard is on and the entry has handlers; the event id is the field. */
  bucket?: DedupeBucket;
  /** The dedupe guard's verdict from the batch claim (used once). */
  claim?: ClaimVerdict;
  /** The wire version, when the payload was upcast to the newest version of its type. */
  upcastFrom?: number;
  /** While it waits out a retry's backoff: gives up the wait (the entry is no longer this consumer's). */
  abandon?: () => void;
}

/** The handlers of one (stream, type) in a group. */
/** Field a replay adds to its copies when they must not be skipped as already handled. */
export const BYPASS_DEDUPE_FIELD = 'replaybypassdedupe';

export interface Route {
  /** The event type. */
  type: string;
  bindings: HandlerBinding[];
  /** `A.x, B.y`, for logs and dead letters. */
  names: string;
  validate: boolean;
  /** Metrics of this route in its group, once resolved. */
  instruments?: RouteInstruments;
}
