import { Injectable } from '@nestjs/common';
import { removeIdleConsumers } from '../consumer/consumer-scripts';
import { deadLetter } from '../dead-letter/dead-letter.writer';
import { GroupAdminError } from '../errors/group-admin.error';
import { EventBusCore } from '../event-bus.core';
import { pairsToRecord } from '../utils/pairs';
import { ReplayService } from './replay.service';

/** One consumer of a group. */
export interface ConsumerInfo {
  name: string;
  /** ms since the consumer last read or claimed. */
  idleMs: number;
  /** Entries it owns, delivered and not acknowledged. */
  pending: number;
}

/** A consumer group of a stream. */
export interface GroupInfo {
  group: string;
  /** Entries not yet delivered to the group; null when Redis cannot tell. */
  lag: number | null;
  pending: number;
  lastDeliveredId: string;
  consumers: ConsumerInfo[];
}

/** An entry delivered to a group and not yet acknowledged. */
export interface PendingEntry {
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
 */
@Injectable()
export class GroupAdminService {
  constructor(
    private readonly core: EventBusCore,
    private readonly replays: ReplayService,
  ) {}

  /** Every group of `stream` with its consumers; none when the stream does not exist. */
  async groups(stream: string): Promise<GroupInfo[]> {
    const key = this.core.keys.stream(stream);
    const records = await this.groupRecords(key);
    return Promise.all(records.map(async (g) => this.toGroupInfo(g, await this.consumers(key, String(g.name)))));
  }

  /** One group, or GroupAdminError `no-group`. */
  async group(stream: string, group: string): Promise<GroupInfo> {
    const key = this.core.keys.stream(stream);
    const found = (await this.groupRecords(key)).find((g) => g.name === group);
    if (!found) throw new GroupAdminError('no-group', `stream ${stream} has no consumer group "${group}"`);
    return this.toGroupInfo(found, await this.consumers(key, group));
  }

  /** Whether `stream` has the group (one XINFO GROUPS, no consumer listing). */
  async hasGroup(stream: string, group: string): Promise<boolean> {
    return (await this.groupRecords(this.core.keys.stream(stream))).some((g) => g.name === group);
  }

  /** GroupAdminError `no-group` unless the group exists. */
  private async assertGroup(stream: string, group: string): Promise<void> {
    if (!(await this.hasGroup(stream, group))) throw new GroupAdminError('no-group', `stream ${stream} has no consumer group "${group}"`);
  }

  /** Creates a group at `startFrom`: `'beginning'`, `'end'` or an entry id it starts after. */
  async createGroup(stream: string, group: string, startFrom: string): Promise<GroupInfo> {
    const at = startFrom === 'beginning' ? '0' : startFrom === 'end' ? '$' : startFrom;
    try {
      await this.core.redis.xgroup('CREATE', this.core.keys.stream(stream), group, at, 'MKSTREAM');
    } catch (error) {
      if (String(error).includes('BUSYGROUP')) throw new GroupAdminError('group-exists', `stream ${stream} has a consumer group "${group}" already`);
      throw error;
    }
    return this.group(stream, group);
  }

  /**
   * Moves the group's position to an id, or to just before a time (see ReplayService.moveGroup);
   * `dryRun` only counts what would be delivered again.
   */
  async moveGroup(stream: string, group: string, to: { id?: string; time?: string }, opts: { dryRun?: boolean } = {}): Promise<{ lastDeliveredId: string; redeliver: number }> {
    await this.assertGroup(stream, group);
    return this.replays.moveGroup(stream, group, to, opts);
  }

  /** Pending entries of the group, oldest first (of one consumer when given). */
  async pending(stream: string, group: string, opts: { count?: number; consumer?: string } = {}): Promise<PendingEntry[]> {
    await this.assertGroup(stream, group);
    const args: Array<string | number> = [this.core.keys.stream(stream), group, '-', '+', opts.count ?? 100];
    if (opts.consumer) args.push(opts.consumer);
    const rows = (await this.core.redis.call('XPENDING', ...args)) as PendingRow[];
    return rows.map(toPendingEntry);
  }

  /** One pending entry, or GroupAdminError `no-group` / `not-pending`. */
  async pendingEntry(stream: string, group: string, id: string): Promise<PendingEntry> {
    await this.assertGroup(stream, group);
    const rows = (await this.core.redis.call('XPENDING', this.core.keys.stream(stream), group, id, id, 1)) as PendingRow[];
    if (rows.length === 0) throw new GroupAdminError('not-pending', `entry ${id} is not pending in group "${group}"`);
    return toPendingEntry(rows[0]);
  }

  /**
   * Gives a pending entry to `consumer` (it then renews or handles it). Ownership only: the
   * delivery count does not grow, since no delivery was made.
   */
  async claimPending(stream: string, group: string, id: string, consumer: string): Promise<void> {
    await this.pendingEntry(stream, group, id);
    await this.core.redis.xclaim(this.core.keys.stream(stream), group, consumer, 0, id, 'JUSTID');
  }

  /** Acknowledges a pending entry: the group will not see it again. */
  async ackPending(stream: string, group: string, id: string): Promise<void> {
    const acked = await this.core.redis.xack(this.core.keys.stream(stream), group, id);
    if (Number(acked) === 0) {
      await this.assertGroup(stream, group);
      throw new GroupAdminError('not-pending', `entry ${id} is not pending in group "${group}"`);
    }
  }

  /**
   * Dead-letters a pending entry exactly as a consumer does: the dead letter, the XACK and the
   * release of the entry's dedupe claim in one MULTI, so a redrive of it runs its handlers.
   * Returns the dead letter's id.
   */
  async deadLetterPending(stream: string, group: string, id: string, why: { reason?: string; error?: string; handler?: string } = {}): Promise<string> {
    const pending = await this.pendingEntry(stream, group, id);
    const [entry] = (await this.core.redis.xrange(this.core.keys.stream(stream), id, id)) as Array<[string, string[]]>;
    if (!entry) throw new GroupAdminError('trimmed', `entry ${id} is pending but no longer in the stream (trimmed): acknowledge it instead`);
    return deadLetter(this.core.redis, this.core.keys, entry[1], {
      reason: why.reason ?? 'operator',
      error: why.error ?? 'dead-lettered by an operator',
      stream,
      entryId: id,
      group,
      consumer: pending.consumer,
      handler: why.handler ?? 'operator',
      attempts: pending.deliveries,
    });
  }

  /**
   * Removes a consumer from the group, atomically refused (`consumer-busy`) while it owns pending
   * entries: deleting it would drop them from the group's pending list, never to be redelivered.
   */
  async removeConsumer(stream: string, group: string, consumer: string): Promise<void> {
    const info = await this.group(stream, group);
    if (!info.consumers.some((c) => c.name === consumer)) throw new GroupAdminError('no-consumer', `group "${group}" has no consumer "${consumer}"`);
    const [outcome] = await removeIdleConsumers(this.core.redis, this.core.keys.stream(stream), group, { minIdleMs: 0, only: consumer });
    if (outcome?.outcome === 'busy') {
      throw new GroupAdminError('consumer-busy', `consumer "${consumer}" still owns ${outcome.count} pending entries in group "${group}": claim, acknowledge or dead-letter them first`);
    }
  }

  private async groupRecords(key: string): Promise<Array<Record<string, unknown>>> {
    try {
      const groups = (await this.core.redis.xinfo('GROUPS', key)) as unknown[][];
      return groups.map((g) => pairsToRecord(g));
    } catch (error) {
      if (String(error).includes('no such key')) return [];
      throw error;
    }
  }

  private async consumers(key: string, group: string): Promise<ConsumerInfo[]> {
    const rows = (await this.core.redis.xinfo('CONSUMERS', key, group)) as unknown[][];
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
}

function toPendingEntry([id, consumer, idle, deliveries]: PendingRow): PendingEntry {
  return { id, consumer, idleMs: Number(idle), deliveries: Number(deliveries) };
}
