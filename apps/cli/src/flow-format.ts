/** The flow view (`GET /ops/flows/:id`) as a tree for a terminal. */
import { clip, formatDuration, formatTime } from './format';
import type { FlowGroup, FlowNode, FlowView } from './ops.types';

/**
 * A header, then each event on a line (`Type vN  stream entry-id  time  source  event id`) with
 * one line per consumer group of its stream under it, and the events it caused below, drawn as
 * a tree.
 */
export function flowText(asked: string, view: FlowView): string {
  const found =
    view.resolvedFrom === 'subject'
      ? ` (latest flow about ${asked})`
      : view.resolvedFrom === 'event-id'
        ? ` (the flow of event ${asked})`
        : '';
  const lines = [
    `flow ${view.correlationId}${found}: ${plural(view.events, 'event')}${view.truncated ? ', only the oldest shown' : ''}`,
  ];
  if (view.otherCorrelationIds.length > 0)
    lines.push(`other flows about ${asked}: ${view.otherCorrelationIds.join(', ')}`);
  for (const root of view.tree) {
    lines.push('');
    render(root, '', undefined, lines);
  }
  return lines.join('\n');
}

function render(node: FlowNode, prefix: string, last: boolean | undefined, lines: string[]): void {
  const connector = last === undefined ? '' : last ? '└─ ' : '├─ ';
  const below = last === undefined ? prefix : `${prefix}${last ? '   ' : '│  '}`;
  lines.push(`${prefix}${connector}${eventLine(node)}`);
  const rail = `${below}${node.children.length > 0 ? '│  ' : '   '}`;
  for (const line of groupLines(node.groups)) lines.push(`${rail}${line}`.trimEnd());
  node.children.forEach((child, i) => render(child, below, i === node.children.length - 1, lines));
}

export function eventLine(node: FlowNode): string {
  const parts = [
    `${node.type ?? '(no type)'} v${node.version ?? '?'}`,
    `${node.stream} ${node.entryId}`,
    formatTime(node.time),
    node.source ?? '-',
    `id ${node.eventId}`,
  ];
  return parts.join('  ');
}

/** One line per group, columns aligned: name, status, attempts, then what the status tells. */
export function groupLines(groups: FlowGroup[]): string[] {
  if (groups.length === 0) return ['(no consumer group reads this stream)'];
  const rows = groups.map((g) => [
    g.group,
    g.status,
    g.attempts === null || g.attempts === undefined ? '' : plural(g.attempts, 'attempt'),
    ...details(g),
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c))
      .join('  ')
      .trimEnd(),
  );
}

function details(g: FlowGroup): string[] {
  const out: string[] = [];
  if (g.status === 'handled' && g.handledAt) out.push(`at ${g.handledAt}`);
  if (g.status === 'pending') out.push(`consumer ${g.consumer ?? '-'}`, `idle ${formatDuration(g.idleMs)}`);
  const dead = g.deadLetter;
  if (dead && g.status === 'dead-lettered')
    out.push(`${dead.reason}: ${clip(dead.error, 80)}`, `(dead letter ${dead.id})`);
  else if (dead) out.push(`(after dead letter ${dead.id}, ${dead.reason})`);
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
