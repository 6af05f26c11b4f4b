import { Injectable } from '@nestjs/common';
import { withConsumerScripts } from '../consumer/consumer-scripts';
import { removeIdleConsumers } from '../consumer/consumer-scripts';
import { deadLetter } from '../dead-letter/dead-letter.writer';
import { GroupAdminError } from '../errors/group-admin.error';
import { EventBusCore } from '../event-bus.core';
import { pairsToRecord } from '../utils/pairs';
import { compareIds } from '../utils/stream-ids';
import { comparePartitionIds, formatPartitionId, parsePartitionId, PartitionEntryId } from './partition-ids';
import { ReplayService } from './replay.service';

/** One consumer of a group. */
export interface ConsumerInfo {
  name: string;
  /** ms since the consumer last read or claimed. */
  idleMs: number;
  /** Entries it owns, delivered and not acknowledged. */
  pending: number;
  /** The partition whose consumer group it belongs to; present only when streams are partitioned. */
  partition?: number;
}

/** A consumer group of a stream. */
export interface GroupInfo {
  group: string;
  /** Entries not yet delivered to the group; null when Redis cannot tell. */
  lag: number | null;
  pending: number;
  /** The last entry delivered to the group (partitioned: the newest of any partition). */
  lastDeliveredId: string;
  consumers: ConsumerInfo[];
}

/** An entry delivered to a group and not yet acknowledged. */
export interface PendingEntry {
  /** The entry id; `p<k>/<entryId>` when streams are partitioned. */
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

type PendingRow = [id: string, consumer: string, idle: number, deliveries: number];

/**
 * What an operator does to a consumer group, done as the consumers themselves do it: inspect,
 * create, move (releasing the dedupe claims it moves over), settle a pending entry by hand
 * (claim, acknowledge, dead-letter with its claim released, so a redrive runs), and remove a
 * consumer only when it owns nothing. Errors that come from the group's state are
 * GroupAdminError, with a message that says what to do.
 *
 * With partitioned streams a group is one Redis consumer group per partition: inspection sums lag
 * and pending over the partitions (lag unknown when any partition's is), lists every partition's
 * consumers with their `partition`, and reports the newest last-delivered id of any partition;
 * creation covers every partition; pending entries are named `p<k>/<entryId>` (a bare entry id
 * means partition 0). A group exists when some partition has it.
 */
@Injectable()
export class GroupAdminService {
  constructor(
    private readonly core: EventBusCore,
    private readonly replays: ReplayService,
  ) {}

  /** Every group of `stream` with its consumers; none when the stream does not exist. */
  async groups(stream: string): Promise<GroupInfo[]> {
    const records = await this.recordsByPartition(stream);
    if (!this.core.keys.partitioned) {
      const key = this.core.keys.stream(stream);
      return Promise.all(records[0].map(async (g) => this.toGroupInfo(g, await this.consumers(key, String(g.name)))));
    }
    const names = [...new Set(records.flatMap((rows) => rows.map((g) => String(g.name))))];
    return Promise.all(names.map((name) => this.mergedGroup(stream, name, records)));
  }

  /** One group, or GroupAdminError `no-group`. */
  async group(stream: string, group: string): Promise<GroupInfo> {
    const records = await this.recordsByPartition(stream);
    if (!records.some((rows) => rows.some((g) => g.name === group)))
      throw new GroupAdminError('no-group', `stream ${stream} has no consumer group "${group}"`);
    if (this.core.keys.partitioned) return this.mergedGroup(stream, group, records);
    const key = this.core.keys.stream(stream);
    return this.toGroupInfo(
      records[0].find((g) => g.name === group)!,
      await this.consumers(key, group),
    );
  }

  /** Whether `stream` has the group (XINFO GROUPS of each partition, no consumer listing). */
  async hasGroup(stream: string, group: string): Promise<boolean> {
    return (await this.partitionsWithGroup(stream, group)).length > 0;
  }

  /** GroupAdminError `no-group` unless the group exists. */
  private async assertGroup(stream: string, group: string): Promise<void> {
    if (!(await this.hasGroup(stream, group)))
      throw new GroupAdminError('no-group', `stream ${stream} has no consumer group "${group}"`);
  }

  /**
   * Creates a group at `startFrom`: `'beginning'`, `'end'` or an entry id it starts after (the
   * same id on every partition). GroupAdminError `group-exists` when some partition has it already.
   */
  async createGroup(stream: string, group: string, startFrom: string): Promise<GroupInfo> {
    const { redis, keys } = this.core;
    const at = startFrom === 'beginning' ? '0' : startFrom === 'end' ? '$' : startFrom;
    const exists = (): GroupAdminError =>
      new GroupAdminError('group-exists', `stream ${stream} has a consumer group "${group}" already`);
    if (!keys.partitioned) {
      try {
        await withConsumerScripts(redis).xgroupOf(keys.stream(stream), 'CREATE', group, at, 'MKSTREAM');
      } catch (error) {
        if (String(error).includes('BUSYGROUP')) throw exists();
        throw error;
      }
      return this.group(stream, group);
    }
    if (await this.hasGroup(stream, group)) throw exists();
    // NOTE: BUSYGROUP now means a consumer of the group created it there meanwhile: the group exists, as asked.
    await Promise.all(
      keys.all.map((k) =>
        withConsumerScripts(redis)
          .xgroupOf(keys.stream(stream, k), 'CREATE', group, at, 'MKSTREAM')
          .catch((error: unknown) => {
            if (!String(error).includes('BUSYGROUP')) throw error;
          }),
      ),
    );
    return this.group(stream, group);
  }

  /**
   * Moves the group's position to an id, or to just before a time (see ReplayService.moveGroup);
   * `dryRun` only counts what would be delivered again.
   */
  async moveGroup(
    stream: string,
    group: string,
    to: { id?: string; time?: string },
    opts: { dryRun?: boolean } = {},
  ): Promise<{ lastDeliveredId: string; redeliver: number }> {
    await this.assertGroup(stream, group);
    return this.replays.moveGroup(stream, group, to, opts);
  }

  /** Pending entries of the group, oldest first (of one consumer when given); merged over the partitions by entry id. */
  async pending(
    stream: string,
    group: string,
    opts: { count?: number; consumer?: string } = {},
  ): Promise<PendingEntry[]> {
    const partitions = await this.partitionsWithGroup(stream, group);
    if (partitions.length === 0)
      throw new GroupAdminError('no-group', `stream ${stream} has no consumer group "${group}"`);
    const count = opts.count ?? 100;
    const perPartition = await Promise.all(
      partitions.map(async (k) => {
        const args: Array<string | number> = [this.core.keys.stream(stream, k), group, '-', '+', count];
        if (opts.consumer) args.push(opts.consumer);
        const rows = (await this.core.redis.call('XPENDING', ...args)) as PendingRow[];
        return rows.map((row) => ({ k, row }));
      }),
    );
    return perPartition
      .flat()
      .sort((a, b) => comparePartitionIds({ partition: a.k, id: a.row[0] }, { partition: b.k, id: b.row[0] }))
      .slice(0, count)
      .map(({ k, row }) => this.toPendingEntry(k, row));
  }

  /** One pending entry (`p<k>/<entryId>` when partitioned), or GroupAdminError `no-group` / `not-pending`. */
  async pendingEntry(stream: string, group: string, id: string): Promise<PendingEntry> {
    return (await this.findPending(stream, group, id)).entry;
  }

  /**
   * Gives a pending entry to `consumer` (it then renews or handles it). Ownership only: the
   * delivery count does not grow, since no delivery was made.
   */
  async claimPending(stream: string, group: string, id: string, consumer: string): Promise<void> {
    const { at } = await this.findPending(stream, group, id);
    await this.core.redis.xclaim(this.core.keys.stream(stream, at.partition), group, consumer, 0, at.id, 'JUSTID');
  }

  /** Acknowledges a pending entry: the group will not see it again. */
  async ackPending(stream: string, group: string, id: string): Promise<void> {
    const at = parsePartitionId(this.core.keys, id);
    const acked = at ? await this.core.redis.xack(this.core.keys.stream(stream, at.partition), group, at.id) : 0;
    if (Number(acked) === 0) {
      await this.assertGroup(stream, group);
      throw new GroupAdminError('not-pending', `entry ${id} is not pending in group "${group}"`);
    }
  }

  /**
   * Dead-letters a pending entry exactly as a consumer does: the dead letter, the XACK and the
   * release of the entry's dedupe claim in one MULTI (in the entry's partition), so a redrive of
   * it runs its handlers. Returns the dead letter's id (`p<k>/<entryId>` when partitioned).
   */
  async deadLetterPending(
    stream: string,
    group: string,
    id: string,
    why: { reason?: string; error?: string; handler?: string } = {},
  ): Promise<string> {
    const { entry: pending, at } = await this.findPending(stream, group, id);
    const { redis, keys } = this.core;
    const [entry] = (await redis.xrange(keys.stream(stream, at.partition), at.id, at.id)) as Array<[string, string[]]>;
    if (!entry)
      throw new GroupAdminError(
        'trimmed',
        `entry ${id} is pending but no longer in the stream (trimmed): acknowledge it instead`,
      );
    const deadLetterId = await deadLetter(redis, keys, entry[1], {
      reason: why.reason ?? 'operator',
      error: why.error ?? 'dead-lettered by an operator',
      stream,
      entryId: at.id,
      group,
      consumer: pending.consumer,
      handler: why.handler ?? 'operator',
      attempts: pending.deliveries,
      ...(keys.partitioned ? { partition: at.partition } : {}),
    });
    return formatPartitionId(keys, at.partition, deadLetterId);
  }

  /**
   * Removes a consumer from the group (from every partition that has it), atomically refused
   * (`consumer-busy`) on a partition while it owns pending entries there: deleting it would drop
   * them from the group's pending list, never to be redelivered.
   */
  async removeConsumer(stream: string, group: string, consumer: string): Promise<void> {
    const info = await this.group(stream, group);
    const partitions = [...new Set(info.consumers.filter((c) => c.name === consumer).map((c) => c.partition ?? 0))];
    if (partitions.length === 0)
      throw new GroupAdminError('no-consumer', `group "${group}" has no consumer "${consumer}"`);
    const outcomes = await Promise.all(
      partitions.map(
        async (k) =>
          (
            await removeIdleConsumers(this.core.redis, this.core.keys.stream(stream, k), group, {
              minIdleMs: 0,
              only: consumer,
            })
          )[0],
      ),
    );
    const busy = outcomes.filter((o) => o?.outcome === 'busy').reduce((sum, o) => sum + Number(o!.count), 0);
    if (busy > 0) {
      throw new GroupAdminError(
        'consumer-busy',
        `consumer "${consumer}" still owns ${busy} pending entries in group "${group}": claim, acknowledge or dead-letter them first`,
      );
    }
  }

  /** The partition and entry id of a pending entry, with its XPENDING row; `no-group` / `not-pending` otherwise. */
  private async findPending(
    stream: string,
    group: string,
    id: string,
  ): Promise<{ entry: PendingEntry; at: PartitionEntryId }> {
    await this.assertGroup(stream, group);
    const at = parsePartitionId(this.core.keys, id);
    const rows = at
      ? ((await this.core.redis.call(
          'XPENDING',
          this.core.keys.stream(stream, at.partition),
          group,
          at.id,
          at.id,
          1,
        )) as PendingRow[])
      : [];
    if (!at || rows.length === 0)
      throw new GroupAdminError('not-pending', `entry ${id} is not pending in group "${group}"`);
    return { entry: this.toPendingEntry(at.partition, rows[0]), at };
  }

  /** The partitions of `stream` that have the group. */
  private async partitionsWithGroup(stream: string, group: string): Promise<number[]> {
    const records = await this.recordsByPartition(stream);
    return this.core.keys.all.filter((k) => records[k].some((g) => g.name === group));
  }

  /** XINFO GROUPS of every partition of `stream`, by partition index. */
  private recordsByPartition(stream: string): Promise<Array<Array<Record<string, unknown>>>> {
    return Promise.all(this.core.keys.all.map((k) => this.groupRecords(this.core.keys.stream(stream, k))));
  }

  /** A group of a partitioned stream: its partitions' lag and pending summed, every partition's consumers. */
  private async mergedGroup(
    stream: string,
    group: string,
    records: Array<Array<Record<string, unknown>>>,
  ): Promise<GroupInfo> {
    const parts = await Promise.all(
      this.core.keys.all.map(async (k) => {
        const record = records[k].find((g) => g.name === group);
        if (!record) return undefined;
        const consumers = await this.consumers(this.core.keys.stream(stream, k), group);
        return this.toGroupInfo(
          record,
          consumers.map((c) => ({ ...c, partition: k })),
        );
      }),
    );
    const present = parts.filter((p): p is GroupInfo => p !== undefined);
    return {
      group,
      lag: present.some((p) => p.lag === null) ? null : present.reduce((sum, p) => sum + p.lag!, 0),
      pending: present.reduce((sum, p) => sum + p.pending, 0),
      lastDeliveredId: present.map((p) => p.lastDeliveredId).reduce((a, b) => (compareIds(a, b) >= 0 ? a : b), '0-0'),
      consumers: present.flatMap((p) => p.consumers),
    };
  }

  private async groupRecords(key: string): Promise<Array<Record<string, unknown>>> {
    try {
      const groups = (await withConsumerScripts(this.core.redis).xinfoOf(key, 'GROUPS')) as unknown[][];
      return groups.map((g) => pairsToRecord(g));
    } catch (error) {
      if (String(error).includes('no such key')) return [];
      throw error;
    }
  }

  private async consumers(key: string, group: string): Promise<ConsumerInfo[]> {
    const rows = (await withConsumerScripts(this.core.redis).xinfoOf(key, 'CONSUMERS', group)) as unknown[][];
    return rows.map((row) => {
      const r = pairsToRecord(row);
      return { name: String(r.name), idleMs: Number(r.idle), pending: Number(r.pending) };
    });
  }

  private toGroupInfo(g: Record<string, unknown>, consumers: ConsumerInfo[]): GroupInfo {
    const lag = g.lag === null || g.lag === undefined ? null : Number(g.lag);
    return {
      group: String(g.name),
      lag: lag !== null && Number.isFinite(lag) ? lag : null,
      pending: Number(g.pending),
      lastDeliveredId: String(g['last-delivered-id']),
      consumers,
    };
  }

  private toPendingEntry(k: number, row: PendingRow): PendingEntry {
    const entry = toPendingEntry(row);
    return { ...entry, id: formatPartitionId(this.core.keys, k, entry.id) };
  }
}

function toPendingEntry([id, consumer, idle, deliveries]: PendingRow): PendingEntry {
  return { id, consumer, idleMs: Number(idle), deliveries: Number(deliveries) };
}
