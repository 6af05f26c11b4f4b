import type Redis from 'ioredis';
import type { Logger } from '@nestjs/common';

/** One event to append: its stream key, its entry's fields, and its event id (to find it again). */
export interface EntryWrite {
  key: string;
  fields: string[];
  id: string;
}

/** A write that was sent and whose connection closed before Redis answered: it may or may not have run. */
export class AmbiguousWriteError extends Error {}

interface Attempt {
  writes: EntryWrite[];
  /** Entry ids found or answered so far, by index in `writes`. */
  entryIds: Array<string | undefined>;
  /** Deadline, epoch ms. */
  at: number;
  /** When it was first sent, epoch ms (this host's clock). */
  since: number;
  /** The connection generation its unanswered writes went out on. */
  sentOn: number;
  settled: boolean;
  resolve: (entryIds: string[]) => void;
  reject: (error: unknown) => void;
  timeout: () => Error;
}

/** The indexes of a single write (shared, never changed). */
const ONE: readonly number[] = [0];

/** How far before a lost write's send time (in Redis's clock) its stream is searched for it. */
const SEARCH_MARGIN_MS = 2_000;
/** At most this many entries of one stream are searched for lost writes; past it they fail as ambiguous. */
const SEARCH_LIMIT = 200_000;
const PAGE = 1_000;

/**
 * Appends entries so that each is written at most once, on a connection of its own that never
 * resends a command by itself (`autoResendUnfulfilledCommands: false`).
 *
 * ioredis resends the commands still unanswered when a connection drops, so a write that Redis
 * had run lands twice. Here such a write is searched for instead: once the connection is back
 * (and has answered what it queued while offline), each stream with lost writes is read from
 * shortly before they were sent, by Redis's clock, for their event ids; a write found resolves
 * with the entry Redis gave it, one not found is sent again. Every call still fails at its
 * deadline, with the write possibly made once, never twice.
 *
 * One timer sweeps the deadlines of every write in flight (no timer per call).
 */
export class OnceWriter {
  // NOTE: insertion order is deadline order (every deadline is "now + the same timeout").
  private readonly attempts = new Set<Attempt>();
  private generation = 0;
  /** Redis's clock minus this host's, in ms, read at each (re)connection. */
  private skewMs = 0;
  private timer?: NodeJS.Timeout;
  private recovering = false;
  /** Writes queued for this turn's pipeline. */
  private queue: Array<[Attempt, readonly number[]]> = [];
  private flushing = false;
  private again = false;

  /** Writes searched for after a dropped connection, and how many of them were found (not sent again). */
  readonly stats = { searched: 0, found: 0, resent: 0 };

  constructor(
    readonly redis: Redis,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly resolutionMs = 25,
  ) {
    redis.on('close', () => this.generation++);
    // NOTE: 'ready' is emitted on the next tick, after ioredis sent what it queued while offline.
    redis.on('ready', () => void this.recover());
  }

  /** Writes in flight (sent or searched for, not yet answered). */
  get size(): number {
    return this.attempts.size;
  }

  /**
   * Appends `writes` (one XADD each, pipelined); resolves with their entry ids, or rejects with
   * `mapError` of the error of a write Redis refused, or of `timeout()` at `at` (epoch ms).
   */
  write(
    writes: EntryWrite[],
    at: number,
    timeout: () => Error,
    mapError: (error: unknown) => unknown = (error) => error,
  ): Promise<string[]> {
    return new Promise<string[]>((resolve, fail) => {
      const reject = (error: unknown): void => fail(mapError(error));
      const attempt: Attempt = {
        writes,
        entryIds: new Array<string | undefined>(writes.length),
        at,
        since: Date.now(),
        sentOn: this.generation,
        settled: false,
        resolve,
        reject,
        timeout,
      };
      this.attempts.add(attempt);
      if (!this.timer) {
        this.timer = setInterval(() => this.sweep(), this.resolutionMs);
        this.timer.unref();
      }
      this.send(attempt, writes.length === 1 ? ONE : writes.map((_, i) => i));
    });
  }

  /** Queues the writes of `attempt` at `indexes` for this turn's pipeline. */
  private send(attempt: Attempt, indexes: readonly number[]): void {
    this.queue.push([attempt, indexes]);
    if (!this.flushing) {
      this.flushing = true;
      process.nextTick(this.flush);
    }
  }

  /**
   * Sends every write queued in this turn in one pipeline. (The client's own auto-pipelining would
   * hold every later command behind a pipeline whose connection dropped: with resending off, that
   * pipeline never settles.)
   */
  private readonly flush = (): void => {
    this.flushing = false;
    const batch = this.queue;
    this.queue = [];
    const generation = this.generation;
    const pipeline = this.redis.pipeline();
    for (const [attempt, indexes] of batch) {
      attempt.sentOn = generation;
      for (const i of indexes) pipeline.xadd(attempt.writes[i].key, '*', ...attempt.writes[i].fields);
    }
    pipeline.exec().then(
      (results) => {
        let at = 0;
        for (const [attempt, indexes] of batch) {
          this.answered(attempt, indexes, results, at);
          at += indexes.length;
        }
      },
      (error: unknown) => {
        for (const [attempt, indexes] of batch) this.answered(attempt, indexes, null, 0, error);
      },
    );
  };

  /** Records the replies (from `offset` in `results`) to the writes of `attempt` at `indexes`. */
  private answered(
    attempt: Attempt,
    indexes: readonly number[],
    results: Array<[Error | null, unknown]> | null,
    offset: number,
    failure?: unknown,
  ): void {
    if (attempt.settled) return;
    let refused: unknown;
    let lost = false;
    for (let j = 0; j < indexes.length; j++) {
      const [error, entryId] = results?.[offset + j] ?? [failure ?? new Error('pipeline discarded'), null];
      if (!error) attempt.entryIds[indexes[j]] = String(entryId);
      else if (isConnectionLoss(error)) lost = true;
      else refused ??= error;
    }
    // NOTE: a write refused by Redis (an error reply) did not run: the call fails with it.
    if (refused !== undefined) return this.settle(attempt, refused);
    // NOTE: a write aborted by a closing connection may have run: it is searched for at reconnection.
    if (lost) return;
    if (attempt.entryIds.every((id) => id !== undefined)) this.settle(attempt, undefined);
  }

  private settle(attempt: Attempt, error: unknown): void {
    if (attempt.settled) return;
    attempt.settled = true;
    this.attempts.delete(attempt);
    if (error === undefined) attempt.resolve(attempt.entryIds as string[]);
    else attempt.reject(error);
  }

  private sweep(): void {
    const now = Date.now();
    for (const attempt of this.attempts) {
      if (attempt.at > now) break;
      this.settle(attempt, attempt.timeout());
    }
    if (this.attempts.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * After a reconnection: reads Redis's clock, then searches each stream with writes sent on an
   * earlier connection and still unanswered; settles what it finds, sends the rest again.
   */
  private async recover(): Promise<void> {
    if (this.recovering) {
      this.again = true;
      return;
    }
    this.recovering = true;
    this.again = false;
    try {
      const [seconds, micros] = (await this.redis.time()) as unknown as [number | string, number | string];
      this.skewMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Date.now();
      // NOTE: the TIME reply came after the replies to everything queued while offline, so what is
      // still unanswered from an earlier connection was dropped with it.
      const lost = [...this.attempts].filter((a) => !a.settled && a.sentOn < this.generation);
      if (lost.length === 0) return;
      const byKey = new Map<string, { from: number; wanted: Map<string, Array<[Attempt, number]>> }>();
      for (const attempt of lost) {
        attempt.writes.forEach((w, i) => {
          if (attempt.entryIds[i] !== undefined) return;
          let search = byKey.get(w.key);
          if (!search) byKey.set(w.key, (search = { from: attempt.since, wanted: new Map() }));
          search.from = Math.min(search.from, attempt.since);
          const list = search.wanted.get(w.id);
          if (list) list.push([attempt, i]);
          else search.wanted.set(w.id, [[attempt, i]]);
          this.stats.searched++;
        });
      }
      const undecided = new Set<Attempt>();
      for (const [key, search] of byKey) {
        const complete = await this.search(key, search.from + this.skewMs - SEARCH_MARGIN_MS, search.wanted);
        if (!complete) for (const list of search.wanted.values()) for (const [attempt] of list) undecided.add(attempt);
      }
      for (const attempt of lost) {
        if (attempt.settled) continue;
        if (undecided.has(attempt)) {
          this.settle(
            attempt,
            new AmbiguousWriteError(
              `the connection dropped before Redis answered and the stream was too long to search (over ${SEARCH_LIMIT} entries): the write may have landed`,
            ),
          );
          continue;
        }
        const missing = attempt.writes.map((_, i) => i).filter((i) => attempt.entryIds[i] === undefined);
        if (missing.length === 0) this.settle(attempt, undefined);
        else {
          this.stats.resent += missing.length;
          this.send(attempt, missing);
        }
      }
    } catch (error) {
      // NOTE: the connection dropped again (or Redis refused the search): the next 'ready' tries again.
      this.logger.warn(
        `searching for writes lost with a dropped connection failed, retried at reconnection: ${String(error)}`,
      );
    } finally {
      this.recovering = false;
      // NOTE: the connection came back again while searching: search again on it.
      if (this.again && this.redis.status === 'ready') void this.recover();
    }
  }

  /**
   * Reads `key` from `fromMs` (Redis's clock) for the event ids `wanted`; records each found
   * entry id on its attempts. False when the stream held more than SEARCH_LIMIT entries to read.
   */
  private async search(key: string, fromMs: number, wanted: Map<string, Array<[Attempt, number]>>): Promise<boolean> {
    let start = `${Math.max(0, Math.floor(fromMs))}-0`;
    let read = 0;
    let left = wanted.size;
    while (left > 0) {
      const page = (await this.redis.xrange(key, start, '+', 'COUNT', PAGE)) as Array<[string, string[]]>;
      for (const [entryId, fields] of page) {
        const id = idField(fields);
        const found = id === undefined ? undefined : wanted.get(id);
        if (!found) continue;
        wanted.delete(id!);
        left--;
        for (const [attempt, i] of found) {
          if (attempt.entryIds[i] === undefined) {
            attempt.entryIds[i] = entryId;
            this.stats.found++;
          }
        }
      }
      read += page.length;
      if (page.length < PAGE) return true;
      if (read >= SEARCH_LIMIT) return false;
      start = `(${page[page.length - 1][0]}`;
    }
    return true;
  }

  /**
   * Resolves once every write in flight is settled: answered, found, or failed at its deadline (so
   * at most the publish timeout). The owner closes the connection after it.
   */
  async drain(): Promise<void> {
    while (this.attempts.size > 0) await new Promise((resolve) => setTimeout(resolve, this.resolutionMs));
  }
}

/** The `id` field of an entry's field list. */
function idField(fields: string[]): string | undefined {
  // NOTE: the library writes `id` second; a foreign entry may have it anywhere.
  if (fields[2] === 'id') return fields[3];
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'id') return fields[i + 1];
  return undefined;
}

/**
 * An error the client gives a command whose connection closed: it may have been sent and run
 * (ioredis aborts a pipeline's unanswered commands, and after repeated failed reconnections
 * fails what it holds, sent or not, with MaxRetriesPerRequestError).
 */
function isConnectionLoss(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /Connection is closed|Command aborted due to connection close|max retries per request/i.test(message);
}
