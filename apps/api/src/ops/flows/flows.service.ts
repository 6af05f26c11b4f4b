import { Injectable, NotFoundException } from '@nestjs/common';
import { compareIds } from '@nest-streams/event-bus/utils/stream-ids';
import { DedupeGuard } from '@nest-streams/event-bus/consumer/dedupe.guard';
import { EventBusCore } from '@nest-streams/event-bus';
import { scripted, withConsumerScripts } from '@nest-streams/event-bus/consumer/consumer-scripts';
import { toRecord } from '../http/redis-replies';
import { IndexedDeadLetter, IndexedEntry, parseIndexedEntry, subjectsOfEventId } from './flow-entry';
import { FlowIndexer } from './flow-indexer';
import { FlowNames } from './flow-names';
import { buildFlowTree, flowNodes, FlowNode, GroupFacts, groupStatus } from './flow-tree';
import { FLOW_INDEX_GROUP, FLOW_VIEW_LIMIT, FLOW_VIEW_OTHER_FLOWS } from './flows.constants';
import type { FlowViewDto } from './flow.dto';

type ResolvedFrom = FlowViewDto['resolvedFrom'];
type PendingRow = [string, string, number, number];

/**
 * The flow view: every event of one business flow across streams, as a causation tree, with what
 * each consumer group did with each event. Reads the flow index (FlowIndexer), then asks Redis
 * about the groups in two pipelined round trips, whatever the size of the flow.
 */
@Injectable()
export class FlowsService {
  private readonly dedupe: DedupeGuard;

  constructor(
    private readonly core: EventBusCore,
    private readonly indexer: FlowIndexer,
  ) {
    this.dedupe = new DedupeGuard(core.redis, core.keys, core.tuning().dedupe.ttlMs);
  }

  async view(id: string): Promise<FlowViewDto> {
    const { correlationId, resolvedFrom, entries, otherCorrelationIds } = await this.resolve(id);
    const truncated = entries.length > FLOW_VIEW_LIMIT;
    const nodes = flowNodes(truncated ? entries.slice(0, FLOW_VIEW_LIMIT) : entries);
    await this.addGroups(
      nodes,
      entries.filter((e): e is IndexedDeadLetter => e.kind === 'dead-letter'),
    );
    return {
      correlationId,
      resolvedFrom,
      events: nodes.length,
      truncated,
      otherCorrelationIds,
      tree: buildFlowTree(nodes),
    };
  }

  /**
   * A correlation id, else an event id (the id index, else the flows of the subject the id is
   * derived from, `<subject>:<suffix>`), else a subject (its latest flow): two round trips, one
   * when the id is a correlation id.
   */
  private async resolve(id: string): Promise<{
    correlationId: string;
    resolvedFrom: ResolvedFrom;
    entries: IndexedEntry[];
    otherCorrelationIds: string[];
  }> {
    const keys = this.indexer.keys;
    const buckets = keys.idBuckets(Date.now(), this.indexer.ttlSeconds);
    const derivedFrom = subjectsOfEventId(id);
    const first = this.core.redis.pipeline().hgetall(keys.names()).lrange(keys.flow(id), 0, FLOW_VIEW_LIMIT);
    for (const bucket of buckets) first.hget(bucket, id);
    for (const subject of [...derivedFrom, id]) first.zrevrange(keys.subject(subject), 0, FLOW_VIEW_OTHER_FLOWS);
    const [names, ...replies] = await this.exec(first);
    const nameOf = FlowNames.decode(names as Record<string, string>);
    const flow = parseFlow(replies[0] as string[], id, nameOf);
    if (flow.length > 0)
      return { correlationId: id, resolvedFrom: 'correlation-id', entries: flow, otherCorrelationIds: [] };

    const byId = replies.slice(1, 1 + buckets.length).find((v): v is string => typeof v === 'string');
    const derived = [...new Set(replies.slice(1 + buckets.length, -1).flatMap((v) => v as string[]))];
    const bySubject = replies[replies.length - 1] as string[];
    const candidates: Array<[string, ResolvedFrom | 'derived']> = [
      ...(byId ? [[byId, 'event-id'] as [string, ResolvedFrom]] : []),
      ...derived.map((c): [string, 'derived'] => [c, 'derived']),
      ...bySubject.map((c): [string, ResolvedFrom] => [c, 'subject']),
    ];
    if (candidates.length === 0) {
      throw new NotFoundException(
        `no flow found for "${id}": it is not a correlation id, event id or subject the flow index has seen (flows are kept FLOW_INDEX_TTL_SECONDS after their last event)`,
      );
    }
    const flows = (
      await this.exec(
        candidates.reduce((p, [c]) => p.lrange(keys.flow(c), 0, FLOW_VIEW_LIMIT), this.core.redis.pipeline()),
      )
    ).map((members, i) => parseFlow(members as string[], candidates[i][0], nameOf));
    const found = flows.findIndex(
      (entries, i) => entries.length > 0 && (candidates[i][1] !== 'derived' || entries.some((e) => e.id === id)),
    );
    if (found < 0)
      throw new NotFoundException(`"${id}" was indexed, but its flow has expired (FLOW_INDEX_TTL_SECONDS)`);
    const [correlationId, from] = candidates[found];
    const resolvedFrom: ResolvedFrom = from === 'derived' ? 'event-id' : from;
    const otherCorrelationIds = resolvedFrom === 'subject' ? bySubject.filter((c) => c !== correlationId) : [];
    return { correlationId, resolvedFrom, entries: flows[found], otherCorrelationIds };
  }

  /**
   * Fills each node's `groups`: the groups of its stream (XINFO GROUPS), then their markers and PEL
   * entries. Partitioned streams: per partition, since a group's position, pending list and
   * markers are its partition's; one pipeline per partition (their keys may live on different
   * cluster nodes), sent at once.
   */
  private async addGroups(nodes: FlowNode[], deadLetters: IndexedDeadLetter[]): Promise<void> {
    const keys = this.core.keys;
    // NOTE: an entry indexed without its partition is in the partition its subject (else its id) belongs to.
    const partitionOf = (node: FlowNode): number => node.partition ?? keys.partitionOf(node.subject ?? node.eventId);
    const byPartition = new Map<number, FlowNode[]>();
    for (const node of nodes) byPartition.set(partitionOf(node), [...(byPartition.get(partitionOf(node)) ?? []), node]);

    const groupsOf = new Map<string, Array<{ group: string; lastDeliveredId: string }>>();
    await Promise.all(
      [...byPartition].map(async ([k, members]) => {
        const streams = [...new Set(members.map((n) => n.stream))];
        const infos = await this.exec(
          streams.reduce(
            (p, s) => p.xinfoOf(keys.stream(s, k), 'GROUPS'),
            scripted(withConsumerScripts(this.core.redis).pipeline()),
          ),
          true,
        );
        streams.forEach((stream, i) => {
          const rows = Array.isArray(infos[i]) ? (infos[i] as unknown[][]) : [];
          const groups = rows
            .map((row) => toRecord(row))
            .map((g) => ({ group: String(g.name), lastDeliveredId: String(g['last-delivered-id']) }));
          groupsOf.set(
            `${stream} ${k}`,
            groups.filter((g) => g.group !== FLOW_INDEX_GROUP).sort((a, b) => a.group.localeCompare(b.group)),
          );
        });
      }),
    );

    const latestDeadLetter = new Map<string, IndexedDeadLetter>();
    for (const d of deadLetters) {
      const key = `${d.stream} ${d.id} ${d.group}`;
      const seen = latestDeadLetter.get(key);
      if (!seen || compareIds(seen.deadLetterId, d.deadLetterId) < 0) latestDeadLetter.set(key, d);
    }
    await Promise.all(
      [...byPartition].map(async ([k, members]) => {
        const asks: Array<{ node: FlowNode; group: { group: string; lastDeliveredId: string } }> = [];
        const pipeline = this.core.redis.pipeline();
        for (const node of members) {
          for (const group of groupsOf.get(`${node.stream} ${k}`) ?? []) {
            asks.push({ node, group });
            if (node.time) {
              const marker = this.dedupe.marker(node.stream, group.group, node.eventId, node.time, k);
              pipeline.hget(marker.key, marker.field);
            } else {
              pipeline.echo('');
            }
            pipeline.xpending(keys.stream(node.stream, k), group.group, node.entryId, node.entryId, 1);
          }
        }
        const replies = asks.length > 0 ? await this.exec(pipeline, true) : [];
        asks.forEach(({ node, group }, i) => {
          const marker = node.time ? replies[2 * i] : null;
          const pending = replies[2 * i + 1];
          const facts: GroupFacts = {
            group: group.group,
            lastDeliveredId: group.lastDeliveredId,
            marker: typeof marker === 'string' ? marker : null,
            pending: Array.isArray(pending) && pending.length > 0 ? (pending[0] as PendingRow) : undefined,
            deadLetter: latestDeadLetter.get(`${node.stream} ${node.eventId} ${group.group}`),
          };
          node.groups.push(groupStatus(node.entryId, facts));
        });
      }),
    );
  }

  /** Runs a pipeline; a failed command throws, or (`tolerant`) answers null (a stream that does not exist). */
  private async exec(pipeline: ReturnType<EventBusCore['redis']['pipeline']>, tolerant = false): Promise<unknown[]> {
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, value]) => {
      if (!error) return value;
      if (tolerant && /no such key|NOGROUP/i.test(error.message)) return null;
      throw error;
    });
  }
}

/** The records of a flow's list, oldest entry first (a record written twice is dropped later, by flowNodes). */
function parseFlow(
  members: string[],
  correlationId: string,
  nameOf: (code: number) => string | undefined,
): IndexedEntry[] {
  return members
    .map((m) => parseIndexedEntry(m, correlationId, nameOf))
    .filter((e): e is IndexedEntry => e !== undefined)
    .sort((a, b) => compareIds(a.entryId, b.entryId));
}
