/** One consumer group in an overview sample (summed over a stream's partitions). */
export interface OverviewGroup {
  group: string;
  /** Entries not yet delivered to the group; null when Redis cannot tell. */
  lag: number | null;
  /** Delivered and not acknowledged. */
  pending: number;
  consumers: number;
}

/** One stream in an overview sample. */
export interface OverviewStream {
  stream: string;
  length: number;
  /** Entries ever added (XINFO STREAM `entries-added`), the base of the rate. */
  added: number;
  /** Events per second since the previous sample; null for the first one after a pause. */
  rate: number | null;
  deadLetters: number;
  groups: OverviewGroup[];
}

/**
 * What the overview shows at one moment: every registered stream. Sent over the live stream as
 * event `sample` with the sample's time as its id, so a reconnect resumes after it.
 */
export interface OverviewSample {
  /** ms since the epoch; strictly increasing. */
  time: number;
  streams: OverviewStream[];
}

/** An entry of a tailed stream, as `GET /ops/streams/:stream/entries` shows entries. */
export interface TailEntry {
  /** The entry id; `p<k>/<ms>-<seq>` on partitioned streams. */
  id: string;
  time: string | null;
  type: string | null;
  version: number | null;
  source: string | null;
  subject: string | null;
  eventId: string | null;
  correlationId: string | null;
  causationId: string | null;
  data: unknown;
}

/** The live stream's events (`event:` of each SSE message and its data). */
export interface LiveEvents {
  sample: OverviewSample;
  /** A new entry of the stream the tab tails (`?tail=<stream>`), in (entry id, partition) order. */
  entry: TailEntry;
  /** The overview could not be read (Redis unreachable, ...); samples resume by themselves. */
  problem: { message: string };
  /** The session ended (expired or signed out): the stream closes; sign in again. */
  session: { state: 'ended' };
}
