import { Logger } from '@nestjs/common';
import { DEFAULT_COMMAND_RETRIES, DEFAULT_RETRY_DELAY_MS } from '../event-store.constants';
import { ConcurrencyError } from '../errors/concurrency.error';
import type { EventStore } from '../event-store';
import type { ExpectedVersion } from '../interfaces/append.interface';
import type { Decider } from '../interfaces/decider.interface';
import type { Event, EventMetadata, RecordedEvent } from '../interfaces/event.interface';
import type { SnapshotWriteResult } from '../interfaces/snapshot.interface';
import { matchesExpectedVersion } from '../utils/expected-version';

export interface HandleCommandOptions {
  /**
   * The version the caller based its command on (optimistic concurrency from a client). A
   * mismatch throws ConcurrencyError at once, without retrying: the caller's view is stale.
   * @default 'any' (the command is decided on the state just loaded, and retried on a conflict)
   */
  expectedVersion?: ExpectedVersion;
  /** Attempts after the first when another writer appended between load and append. @default 3 */
  retries?: number;
  /** First pause between attempts in ms, doubled each attempt, with full jitter. @default 5 */
  retryDelayMs?: number;
  /** Metadata of every event appended (`correlationId`, `causationId`...). */
  metadata?: EventMetadata;
}

export interface CommandResult<State, E extends Event> {
  /** The state after the command. */
  state: State;
  /** The stream's version after the command. */
  version: number;
  /** What the command appended (empty when `decide` returned no event). */
  events: Array<RecordedEvent<E>>;
  /** The state and version the command was decided on. */
  previous: { state: State; version: number };
  /** 1 when the first attempt went through. */
  attempts: number;
  /** Whether a snapshot was written after the append (`failed`: logged, the events stand). */
  snapshot?: SnapshotWriteResult | 'failed';
}

const logger = new Logger('EventStore');

/**
 * Loads the stream's state, decides, appends what `decide` returned with the loaded version as
 * the expected version, and retries the whole (load, decide, append) on a ConcurrencyError a
 * few times. Then, per the decider's snapshot policy, writes a snapshot of the new state: only
 * once its events are appended, and a failure there does not fail the command.
 * Domain errors thrown by `decide` propagate unchanged.
 */
export async function handleCommand<State, Command, E extends Event>(
  store: EventStore,
  streamName: string,
  decider: Decider<State, Command, E>,
  command: Command,
  options: HandleCommandOptions = {},
): Promise<CommandResult<State, E>> {
  const retries = options.retries ?? DEFAULT_COMMAND_RETRIES;
  const fromCaller = options.expectedVersion !== undefined && options.expectedVersion !== 'any';
  for (let attempt = 1; ; attempt++) {
    const loaded = await store.load(streamName, decider);
    if (fromCaller && !matchesExpectedVersion(options.expectedVersion, loaded.version)) {
      throw new ConcurrencyError(streamName, options.expectedVersion!, loaded.version);
    }
    const decided = decider.decide(command, loaded.state);
    const events = Array.isArray(decided) ? decided : [decided];
    const previous = { state: loaded.state, version: loaded.version };
    if (events.length === 0)
      return { state: loaded.state, version: loaded.version, events: [], previous, attempts: attempt };
    try {
      const appended = await store.append(streamName, events, {
        expectedVersion: loaded.version,
        metadata: options.metadata,
      });
      const state = appended.events.reduce((acc, event) => decider.evolve(acc, event), loaded.state);
      const result: CommandResult<State, E> = {
        state,
        version: appended.version,
        events: appended.events,
        previous,
        attempts: attempt,
      };
      const policy = decider.snapshot;
      if (policy && appended.version - (loaded.snapshotVersion ?? 0) >= policy.every) {
        result.snapshot = await store
          .writeSnapshot(streamName, {
            state: policy.toSnapshot ? policy.toSnapshot(state) : state,
            version: appended.version,
            schemaVersion: policy.schemaVersion,
            time: appended.events[appended.events.length - 1].time,
          })
          .catch((error: unknown) => {
            logger.warn(
              `snapshot of ${streamName} at version ${appended.version} not written (the events stand; the next command retries): ${String(error)}`,
            );
            return 'failed' as const;
          });
      }
      return result;
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || fromCaller || attempt > retries) throw error;
      const ceiling = (options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
    }
  }
}
