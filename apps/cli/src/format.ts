/** Pure formatting of what the CLI prints: tables, one-line entries, progress lines, errors. */
import { messageText, OpsConnectionError, OpsErrorBody, OpsHttpError, UsageError } from './ops-client';
import type { DeadLetter, GroupInfo, PendingEntry, ReplayStatus, StreamEntry, StreamInfo } from './ops.types';

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  align?: 'left' | 'right';
  /** Longer cells are cut with an ellipsis. */
  max?: number;
}

/** A plain-text table: a header row and one row per item, columns two spaces apart. */
export function table<T>(columns: Column<T>[], rows: T[]): string {
  const cells = rows.map((row) => columns.map((c) => clip(cell(c.value(row)), c.max)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) =>
        columns[i].align === 'right' ? v.padStart(widths[i]) : i === values.length - 1 ? v : v.padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** Any JSON value as one table cell: `-` for nothing, `k=v` pairs for objects, joined arrays. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cell).join(',');
  if (typeof value === 'object') {
    const pairs = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
    return pairs.length === 0
      ? '-'
      : pairs.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
  }
  return String(value);
}

export function clip(text: string, max?: number): string {
  if (max === undefined || text.length <= max) return text;
  return max <= 1 ? text.slice(0, max) : `${text.slice(0, max - 1)}…`;
}

/** 850ms, 12.3s, 4m05s, 3h07m, 2d04h. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const total = Math.floor(s);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (total < 3600) return `${Math.floor(total / 60)}m${pad(total % 60)}s`;
  if (total < 86400) return `${Math.floor(total / 3600)}h${pad(Math.floor((total % 3600) / 60))}m`;
  return `${Math.floor(total / 86400)}d${pad(Math.floor((total % 86400) / 3600))}h`;
}

/** An ISO time as given; epoch milliseconds as ISO. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value).toISOString() : '-';
  return value;
}

/** `{ maxLength, maxAgeMs }` as `maxLength=1000000 maxAge=7d00h`; anything else as a plain cell. */
export function retentionCell(retention: unknown): string {
  if (!retention || typeof retention !== 'object' || Array.isArray(retention)) return cell(retention);
  const { maxAgeMs, ...rest } = retention as Record<string, unknown>;
  const parts = [cell(rest)].filter((p) => p !== '-');
  if (typeof maxAgeMs === 'number') parts.push(`maxAge=${formatDuration(maxAgeMs)}`);
  else if (maxAgeMs !== undefined && maxAgeMs !== null) parts.push(`maxAgeMs=${cell(maxAgeMs)}`);
  return parts.length === 0 ? '-' : parts.join(' ');
}

function groupsCell(groups: unknown): unknown {
  return Array.isArray(groups) ? groups.length : groups;
}

export function streamsTable(streams: StreamInfo[]): string {
  if (streams.length === 0) return 'No streams.';
  return table<StreamInfo>(
    [
      { header: 'STREAM', value: (s) => s.stream },
      { header: 'LENGTH', value: (s) => s.length, align: 'right' },
      { header: 'FIRST ID', value: (s) => s.firstId },
      { header: 'LAST ID', value: (s) => s.lastId },
      { header: 'FIRST TIME', value: (s) => formatTime(s.firstTime) },
      { header: 'LAST TIME', value: (s) => formatTime(s.lastTime) },
      { header: 'GROUPS', value: (s) => groupsCell(s.groups), align: 'right' },
      { header: 'DEAD LETTERS', value: (s) => s.deadLetters, align: 'right' },
      { header: 'RETENTION', value: (s) => retentionCell(s.retention) },
    ],
    streams,
  );
}

/** The groups, then every consumer of each. */
export function groupsTable(stream: string, groups: GroupInfo[]): string {
  if (groups.length === 0) return `No consumer groups read ${stream}.`;
  const groupTable = table<GroupInfo>(
    [
      { header: 'GROUP', value: (g) => g.group },
      { header: 'LAG', value: (g) => g.lag, align: 'right' },
      { header: 'PENDING', value: (g) => g.pending, align: 'right' },
      { header: 'LAST DELIVERED', value: (g) => g.lastDeliveredId },
      { header: 'CONSUMERS', value: (g) => (g.consumers ?? []).length, align: 'right' },
    ],
    groups,
  );
  const consumers = groups.flatMap((g) => (g.consumers ?? []).map((c) => ({ group: g.group, ...c })));
  if (consumers.length === 0) return groupTable;
  const consumerTable = table<(typeof consumers)[number]>(
    [
      { header: 'GROUP', value: (c) => c.group },
      { header: 'CONSUMER', value: (c) => c.name },
      { header: 'PENDING', value: (c) => c.pending, align: 'right' },
      { header: 'IDLE', value: (c) => formatDuration(c.idleMs), align: 'right' },
    ],
    consumers,
  );
  return `${groupTable}\n\n${consumerTable}`;
}

export function pendingTable(stream: string, group: string, entries: PendingEntry[]): string {
  if (entries.length === 0) return `Nothing pending in group ${group} of ${stream}.`;
  return table<PendingEntry>(
    [
      { header: 'ID', value: (p) => p.id },
      { header: 'CONSUMER', value: (p) => p.consumer },
      { header: 'IDLE', value: (p) => formatDuration(p.idleMs), align: 'right' },
      { header: 'DELIVERIES', value: (p) => p.deliveries, align: 'right' },
    ],
    entries,
  );
}

export function deadLettersTable(stream: string, letters: DeadLetter[]): string {
  if (letters.length === 0) return `No dead letters in ${stream} match.`;
  return table<DeadLetter>(
    [
      { header: 'ID', value: (l) => l.id },
      { header: 'DEAD-LETTERED AT', value: (l) => formatTime(l.deadLetteredAt) },
      { header: 'REASON', value: (l) => l.reason },
      { header: 'TYPE', value: (l) => l.type },
      { header: 'GROUP', value: (l) => l.group },
      { header: 'HANDLER', value: (l) => l.handler },
      { header: 'ATTEMPTS', value: (l) => l.attempts, align: 'right' },
      { header: 'ENTRY', value: (l) => l.entryId },
      { header: 'ERROR', value: (l) => l.error, max: 60 },
    ],
    letters,
  );
}

/** One tailed entry: `time  id  Type@vN  subject  source  {data}`; cut to `width` when given. */
export function entryLine(entry: StreamEntry, width?: number): string {
  const data = typeof entry.data === 'string' ? entry.data : JSON.stringify(entry.data ?? null);
  const line = [
    formatTime(entry.time),
    entry.id,
    `${entry.type}@v${entry.version ?? 1}`,
    cell(entry.subject),
    cell(entry.source),
    data,
  ].join('  ');
  return width ? clip(line, width) : line;
}

/** `queued`/`running 120/500 (24%) 100/s eta 4s`. */
export function replayLine(status: ReplayStatus): string {
  const parts = [`replay ${status.id}`, status.state];
  if (status.total > 0 || status.done > 0) parts.push(progressText(status.done, status.total));
  if (status.ratePerSec) parts.push(`${formatRate(status.ratePerSec)}/s`);
  if (status.state === 'running' && status.etaSeconds !== null && status.etaSeconds !== undefined)
    parts.push(`eta ${formatEta(status.etaSeconds)}`);
  if (status.error) parts.push(`error: ${status.error}`);
  return parts.join(' ');
}

/** Seconds left: `-` unknown, `0s`, `42s`, then as durations (`4m05s`). */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  return seconds < 60 ? `${Math.ceil(seconds)}s` : formatDuration(seconds * 1000);
}

/** `done/total (pct%)`, with `?` while the total is not counted yet. */
export function progressText(done: number, total: number): string {
  return total > 0 ? `${done}/${total} (${percent(done, total)}%)` : `${done}/?`;
}

/** 4980.5 -> 4981, 0.5 -> 0.5 */
export function formatRate(rate: number): string {
  return rate >= 10 ? String(Math.round(rate)) : String(Math.round(rate * 10) / 10);
}

export function percent(done: number, total: number): number {
  if (total <= 0) return done > 0 ? 100 : 0;
  return Math.min(100, Math.floor((done / total) * 100));
}

/** What went wrong, for stderr: first line says what, the rest how to fix it. */
export function errorLines(error: unknown): string[] {
  if (error instanceof UsageError) return [`error: ${error.message}`];
  if (error instanceof OpsConnectionError) return [`error: ${error.message}`];
  if (error instanceof OpsHttpError)
    return httpErrorLines(error.status, error.body, `${error.method} ${new URL(error.url).pathname}`);
  if (error instanceof Error) return [`error: ${error.message}`];
  return [`error: ${String(error)}`];
}

export function httpErrorLines(status: number, body: OpsErrorBody, request: string): string[] {
  const title = `${status}${body.error ? ` ${body.error}` : ''}`;
  const message = messageText(body.message);
  const head = message && message !== body.error ? `${title}: ${message}` : title;
  const lines = [`error: ${head}`];
  for (const d of body.details ?? []) lines.push(`  - ${d.field}: ${(d.messages ?? []).join('; ')}`);
  if (status === 401) lines.push('  the API key is missing or not accepted: pass --api-key <key> or set API_KEY');
  else if (status === 403) lines.push("  the API key was accepted but its role may not do this: use an operator's key");
  else if (status === 404) lines.push(`  (${request})`);
  else if (status >= 500) lines.push(`  the platform failed on ${request}; its logs say why`);
  return lines;
}

/** 1 for usage errors and 4xx, 2 for server and network failures. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return 1;
  if (error instanceof OpsHttpError) return error.status >= 500 ? 2 : 1;
  return 2;
}
