import type { Event, RecordedEvent } from './event.interface';

/**
 * How often, and in which shape, a decider's state is snapshotted next to its stream.
 * Bump `schemaVersion` whenever the state's shape or `evolve` changes: snapshots of another
 * schema version are ignored (the state is rebuilt from the events) and replaced on the next save.
 */
export interface SnapshotPolicy<State> {
  /** Write a snapshot once this many events were appended since the last usable one. */
  every: number;
  /** Version of the state's shape. */
  schemaVersion: number;
  /** State to JSON-able value. @default the state itself */
  toSnapshot?: (state: State) => unknown;
  /** JSON value back to state. @default the value itself */
  fromSnapshot?: (value: unknown) => State;
}

/** What loading a state needs: a start and a fold, and optionally a snapshot policy. */
export interface Evolver<State, E extends Event> {
  initialState(): State;
  evolve(state: State, event: RecordedEvent<E>): State;
  /** No snapshots when absent. */
  snapshot?: SnapshotPolicy<State>;
}

/**
 * The decider pattern: `decide(command, state)` returns the events a command produces (or throws
 * a domain error), `evolve(state, event)` folds one event into the state, `initialState()`
 * starts the fold. Both functions are pure.
 */
export interface Decider<State, Command, E extends Event> extends Evolver<State, E> {
  decide(command: Command, state: State): E | E[];
}
