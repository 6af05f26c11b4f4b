/** Why a reader's controls are disabled. */
export const READER_REASON = 'Operators only: your key has the reader role.';

export function count(n: number | null): string {
  return n === null ? '–' : n.toLocaleString('en-US');
}

/** A duration in ms as the largest unit that fits: 850 ms, 12 s, 4 min, 3 h. */
export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

/** The time of a stream entry id (`<ms>-<seq>`, or `p<k>/<ms>-<seq>`), or of an ISO time. */
export function timeOf(idOrTime: string | null): string {
  if (!idOrTime) return '–';
  const ms = /^(?:p\d+\/)?(\d+)-\d+$/.exec(idOrTime)?.[1];
  const date = new Date(ms === undefined ? idOrTime : Number(ms));
  return Number.isFinite(date.getTime()) ? date.toISOString().replace('T', ' ').replace('Z', '') : idOrTime;
}

/** The path of a stream's /ops routes. */
export function streamPath(stream: string): string {
  return `/ops/streams/${encodeURIComponent(stream)}`;
}

/** What an action came to, as the page reports it. */
export interface Outcome {
  ok: boolean;
  text: string;
}

/** The message of an error the server answered (or of any other). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
