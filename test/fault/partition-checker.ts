/**
 * Pure checks over what the partition workers logged (partition-worker.ts) and what the test
 * published: no I/O here, so a check can be tried on hand-made logs.
 *
 * A run is one handler invocation of one group on one event, from its `start` line to its `end`
 * line. A run with a start and no end was cut short by its process's death (SIGKILL): it is taken
 * to last until that death (`deaths`), or forever when the process did not die.
 */

/** One line of a worker's run log. */
export interface RunLine {
  /** `skip` (DIAG=1 only): a delivery left pending unrun because the lease was not valid locally. */
  ev: 'start' | 'end' | 'skip';
  /** `<instance>#<n>`: pairs a start with its end. */
  run: string;
  group: string;
  stream: string;
  eventId: string;
  entryId: string;
  subject: string;
  seq: number;
  instance: string;
  partition: number;
  epoch: number;
  deliveryCount: number;
  start: number;
  end?: number;
}

/** One handler run. */
export interface Run extends Omit<RunLine, 'ev' | 'end'> {
  end: number;
  /** False when the process died during the run (no end line). */
  finished: boolean;
}

/** One event the test published (its publish resolved). */
export interface PublishedStep {
  eventId: string;
  entryId: string;
  stream: string;
  subject: string;
  seq: number;
}

/** Parses a run log; lines that are not JSON (the one a SIGKILL cut in half) are counted, not thrown. */
export function parseRunLog(text: string): { lines: RunLine[]; torn: number } {
  const lines: RunLine[] = [];
  let torn = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      lines.push(JSON.parse(line) as RunLine);
    } catch {
      torn++;
    }
  }
  return { lines, torn };
}

/** Pairs start and end lines into runs; a start without an end lasts until its instance's death. */
export function pairRuns(lines: RunLine[], deaths: Readonly<Record<string, number>> = {}): Run[] {
  const byRun = new Map<string, Run>();
  for (const line of lines) {
    if (line.ev === 'skip') continue;
    const { ev, end, ...rest } = line;
    const known = byRun.get(line.run);
    if (ev === 'end') byRun.set(line.run, { ...rest, start: known?.start ?? line.start, end: end!, finished: true });
    else if (!known)
      byRun.set(line.run, { ...rest, end: deaths[line.instance] ?? Number.POSITIVE_INFINITY, finished: false });
  }
  return [...byRun.values()];
}

export interface CheckOptions {
  /** The groups that must each handle every published event. */
  groups: readonly string[];
  /** The partition a subject's events go to (`EventBusKeys.partitionOf`). */
  partitionOf(subject: string): number;
  /**
   * Runs allowed to overlap others and to end after a newer epoch began: a paused owner's
   * in-flight runs, which fencing cannot stop (it refuses their acknowledgements instead).
   */
  exempt?(run: Run): boolean;
}

export interface PartitionReport {
  published: number;
  runs: number;
  unfinishedRuns: number;
  /** Per group: published events with at least one finished run. */
  handled: Record<string, number>;
  /** `group/eventId` of published events no run of that group finished. */
  lost: string[];
  /** Runs of events the test never published (or whose publish it did not see succeed). */
  unexpected: number;
  /** Runs beyond the first, summed over (group, event): redeliveries. */
  duplicates: number;
  /** The runs beyond the first of each (group, event), by start. */
  duplicateRuns: Run[];
  /** A run of seq s started before any run of seq s-1 of its subject (same group) had finished. */
  orderViolations: string[];
  /** Two runs of one subject (same group) going on at once (exempt runs aside). */
  overlaps: string[];
  /** Overlaps that involve an exempt run (counted, not violations). */
  exemptOverlaps: number;
  /** Per (group, partition): a run of an older epoch ended after (or started after) a newer epoch's first run started. */
  epochViolations: string[];
  /** Epoch violations that involve an exempt run (counted, not violations). */
  exemptEpochOverlaps: number;
  /** (group, partition, epoch) that ran on more than one instance: one grant, one owner. */
  epochOwnerConflicts: string[];
  /** Runs whose partition is not their subject's. */
  partitionMismatches: string[];
  /** Runs per instance (finished or not). */
  byInstance: Record<string, number>;
  /** Distinct epochs seen per group, summed over partitions: how many grants did work. */
  epochsSeen: number;
}

function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

const show = (r: Run): string =>
  `${r.instance} ${r.group} ${r.subject}#${r.seq} p${r.partition}/e${r.epoch} [${r.start.toFixed(1)}..${r.finished ? r.end.toFixed(1) : `died ${r.end}`}]`;

/**
 * Checks every run against what was published:
 * - lost: a published event no run of some group finished;
 * - order: per (group, stream, subject), a run of seq s starts only after a run of seq s-1 has
 *   finished (so first runs start in seq order, and nothing runs ahead of a predecessor that was
 *   never completed);
 * - no overlap: per (group, stream, subject), no two runs at once (exempt runs aside);
 * - epochs: per (group, partition), every run of epoch e ends before the first run of any epoch
 *   e' > e starts (so epochs follow each other in time, strictly increasing); one instance per
 *   (group, partition, epoch);
 * - duplicates: runs beyond the first per (group, event).
 */
export function checkRuns(
  published: readonly PublishedStep[],
  runs: readonly Run[],
  options: CheckOptions,
): PartitionReport {
  const exempt = options.exempt ?? ((): boolean => false);
  const publishedById = new Map(published.map((p) => [p.eventId, p]));
  const report: PartitionReport = {
    published: published.length,
    runs: runs.length,
    unfinishedRuns: runs.filter((r) => !r.finished).length,
    handled: {},
    lost: [],
    unexpected: 0,
    duplicates: 0,
    duplicateRuns: [],
    orderViolations: [],
    overlaps: [],
    exemptOverlaps: 0,
    epochViolations: [],
    exemptEpochOverlaps: 0,
    epochOwnerConflicts: [],
    partitionMismatches: [],
    byInstance: {},
    epochsSeen: 0,
  };
  for (const r of runs) {
    report.byInstance[r.instance] = (report.byInstance[r.instance] ?? 0) + 1;
    if (!publishedById.has(r.eventId)) report.unexpected++;
    if (r.partition !== options.partitionOf(r.subject))
      report.partitionMismatches.push(`${show(r)}: subject's partition is ${options.partitionOf(r.subject)}`);
  }

  // Lost and duplicates, per (group, event).
  const byGroupEvent = groupBy(runs, (r) => `${r.group}/${r.eventId}`);
  for (const group of options.groups) {
    let handled = 0;
    for (const p of published) {
      const list = byGroupEvent.get(`${group}/${p.eventId}`) ?? [];
      if (list.some((r) => r.finished)) handled++;
      else report.lost.push(`${group}/${p.eventId} (${p.subject}#${p.seq})`);
    }
    report.handled[group] = handled;
  }
  for (const list of byGroupEvent.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.start - b.start);
    report.duplicates += list.length - 1;
    report.duplicateRuns.push(...list.slice(1));
  }

  // Order and overlap, per (group, stream, subject).
  const publishedSeqs = groupBy(published, (p) => `${p.stream}/${p.subject}`);
  for (const [key, list] of publishedSeqs) {
    const seqs = list.map((p) => p.seq).sort((a, b) => a - b);
    if (seqs.some((s, i) => s !== i + 1))
      report.orderViolations.push(`${key}: published seqs are not 1..${seqs.length}`);
  }
  for (const [key, list] of groupBy(runs, (r) => `${r.group}/${r.stream}/${r.subject}`)) {
    list.sort((a, b) => a.start - b.start);
    const finishedBySeq = groupBy(
      list.filter((r) => r.finished),
      (r) => String(r.seq),
    );
    for (const r of list) {
      if (r.seq > 1 && !(finishedBySeq.get(String(r.seq - 1)) ?? []).some((prev) => prev.end <= r.start)) {
        report.orderViolations.push(`${key}: ${show(r)} started before any run of seq ${r.seq - 1} had finished`);
      }
    }
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length && list[j].start < list[i].end; j++) {
        if (exempt(list[i]) || exempt(list[j])) report.exemptOverlaps++;
        else report.overlaps.push(`${key}: ${show(list[i])} overlaps ${show(list[j])}`);
      }
    }
  }

  // Epochs, per (group, partition).
  for (const [key, list] of groupBy(runs, (r) => `${r.group}/p${r.partition}`)) {
    const byEpoch = groupBy(list, (r) => String(r.epoch));
    report.epochsSeen += byEpoch.size;
    for (const [epoch, epochRuns] of byEpoch) {
      const instances = [...new Set(epochRuns.map((r) => r.instance))];
      if (instances.length > 1) report.epochOwnerConflicts.push(`${key} epoch ${epoch} ran on ${instances.join(', ')}`);
    }
    const epochs = [...byEpoch.keys()].map(Number).sort((a, b) => a - b);
    for (const e of epochs) {
      for (const later of epochs.filter((x) => x > e)) {
        const firstLater = byEpoch.get(String(later))!.reduce((a, b) => (b.start < a.start ? b : a));
        for (const r of byEpoch.get(String(e))!) {
          if (r.end <= firstLater.start) continue;
          if (exempt(r)) report.exemptEpochOverlaps++;
          else
            report.epochViolations.push(
              `${key}: ${show(r)} (epoch ${e}) ${r.start >= firstLater.start ? 'started' : 'ended'} after epoch ${later} began with ${show(firstLater)}`,
            );
        }
      }
    }
  }
  return report;
}

/** The report's counts, one line (what the spec prints). */
export function summary(name: string, report: PartitionReport, extra: Record<string, string | number> = {}): string {
  const counts: Record<string, string | number> = {
    published: report.published,
    runs: report.runs,
    unfinished: report.unfinishedRuns,
    handled: Object.entries(report.handled)
      .map(([g, n]) => `${g}:${n}`)
      .join('/'),
    lost: report.lost.length,
    duplicates: report.duplicates,
    unexpected: report.unexpected,
    'order-violations': report.orderViolations.length,
    overlaps: report.overlaps.length,
    'exempt-overlaps': report.exemptOverlaps,
    'epoch-violations': report.epochViolations.length,
    'exempt-epoch': report.exemptEpochOverlaps,
    'epoch-owner-conflicts': report.epochOwnerConflicts.length,
    'epochs-seen': report.epochsSeen,
    'by-instance': Object.entries(report.byInstance)
      .sort()
      .map(([i, n]) => `${i}:${n}`)
      .join(','),
    ...extra,
  };
  return `fault ${name}: ${Object.entries(counts)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}
