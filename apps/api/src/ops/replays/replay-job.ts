import type { ReplayRequest, ReplayResult } from '@nest-streams/event-bus';

/** Data of a job on the `replays` queue. */
export interface ReplayJobData {
  request: ReplayRequest;
}

/** Progress as `ReplayService` reports it. */
export interface ReplayProgress {
  done: number;
  total: number;
}

/** `job.progress` of a replay job: progress, and when it was measured (for the rate). */
export interface ReplayJobProgress extends ReplayProgress {
  /** When the first progress came (the range is counted before): epoch ms. */
  since: number;
  /** When `done` was measured: epoch ms. */
  at: number;
}

export type ReplayJobResult = ReplayResult;

export function isReplayProgress(value: unknown): value is ReplayJobProgress {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ReplayJobProgress).done === 'number' &&
    typeof (value as ReplayJobProgress).at === 'number'
  );
}
