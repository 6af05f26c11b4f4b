import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { deadLetter, EventBusCore, ReplayService } from '@app/event-bus';
import { numberOrNull, toRecord } from '../http/redis-replies';
import type { ConsumerDto, CreatedGroupDto, GroupDto, MovedPositionDto, MovePositionDto, PendingActionDto, PendingEntryDto } from './group.dto';

// NOTE: one round trip, atomic: a consumer that still owns entries is never deleted (its
// pending entries would vanish from the group's PEL and never be redelivered).
const DELETE_IDLE_CONSUMER = `
local owners = redis.call('XPENDING', KEYS[1], ARGV[1])[4]
if owners then
  for _, owner in ipairs(owners) do
    if owner[1] == ARGV[2] then return -tonumber(owner[2]) end
  end
end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
`;

/** Consumer groups of a stream: inspect, create, move, clean up, and settle pending entries by hand. */
@Injectable()
export class GroupsService {
  constructor(
    private readonly core: EventBusCore,
    private readonly replay: ReplayService,
  ) {}

  async list(stream: string): Promise<GroupDto[]> {
    const key = this.core.keys.stream(stream);
    const groups = await this.groupRecords(key);
    return Promise.all(
      groups.map(async (g) => ({
        group: String(g.name),
        lag: numberOrNull(g.lag),
        pending: Number(g.pending),
        lastDeliveredId: String(g['last-delivered-id']),
        consumers: await this.consumers(key, String(g.name)),
      })),
    );
  }

  /** The group's XINFO GROUPS record, or 404. */
  async get(stream: string, group: string): Promise<Record<string, unknown>> {
    const found = (await this.groupRecords(this.core.keys.stream(stream))).find((g) => g.name === group);
    if (!found) throw new NotFoundException(`stream ${stream} has no consumer group "${group}"`);
    return found;
  }

  async exists(stream: string, group: string): Promise<boolean> {
    return (await this.groupRecords(this.core.keys.stream(stream))).some((g) => g.name === group);
  }

  async create(stream: string, group: string, startFrom: string): Promise<CreatedGroupDto> {
    const key = this.core.keys.stream(stream);
    const at = startFrom === 'beginning' ? '0' : startFrom === 'end' ? '$' : startFrom;
    try {
      await this.core.redis.xgroup('CREATE', key, group, at, 'MKSTREAM');
    } catch (error) {
      if (String(error).includes('BUSYGROUP')) throw new ConflictException(`stream ${stream} has a consumer group "${group}" already`);
      throw error;
    }
    const created = await this.get(stream, group);
    return { stream, group, lastDeliveredId: String(created['last-delivered-id']) };
  }

  /** Moves the group's position; without `confirm: true` only says what it would do (400). */
  async move(stream: string, group: string, body: MovePositionDto): Promise<MovedPositionDto> {
    if ((body.id === undefined) === (body.time === undefined)) {
      throw new BadRequestException({
        message: 'give either id or time (not both)',
        details: [{ field: body.id === undefined ? 'id' : 'time', messages: ['give either id or time (not both)'] }],
      });
    }
    await this.get(stream, group);
    const to = body.id !== undefined ? { id: body.id } : { time: body.time };
    if (body.confirm !== true) {
      const preview = await this.replay.moveGroup(stream, group, to, { dryRun: true });
      const what = `moving group "${group}" of stream ${stream} to ${preview.lastDeliveredId} would deliver ${preview.redeliver} entries (again)`;
      throw new BadRequestException({ message: `${what}: nothing was changed; send "confirm": true to do it`, details: [{ field: 'confirm', messages: [`confirm must be true: ${what}`] }] });
    }
    const moved = await this.replay.moveGroup(stream, group, to);
    return { stream, group, ...moved };
  }

  async deleteConsumer(stream: string, group: string, consumer: string): Promise<void> {
    const key = this.core.keys.stream(stream);
    await this.get(stream, group);
    const consumers = await this.consumers(key, group);
    if (!consumers.some((c) => c.name === consumer)) throw new NotFoundException(`group "${group}" has no consumer "${consumer}"`);
    const result = Number(await this.core.redis.eval(DELETE_IDLE_CONSUMER, 1, key, group, consumer));
    if (result < 0) {
      throw new ConflictException(`consumer "${consumer}" still owns ${-result} pending entries in group "${group}": claim, acknowledge or dead-letter them first`);
    }
  }

  async pending(stream: string, group: string, count: number, consumer?: string): Promise<PendingEntryDto[]> {
    const key = this.core.keys.stream(stream);
    await this.get(stream, group);
    const args: Array<string | number> = [key, group, '-', '+', count];
    if (consumer) args.push(consumer);
    const rows = (await this.core.redis.call('XPENDING', ...args)) as Array<[string, string, number, number]>;
    return rows.map(([id, owner, idle, deliveries]) => ({ id, consumer: owner, idleMs: Number(idle), deliveries: Number(deliveries) }));
  }

  async claim(stream: string, group: string, id: string, consumer: string): Promise<PendingActionDto> {
    const key = this.core.keys.stream(stream);
    await this.pendingEntry(stream, group, id);
    // NOTE: JUSTID: moves ownership (and resets idle) without counting a delivery the operator did not make.
    await this.core.redis.xclaim(key, group, consumer, 0, id, 'JUSTID');
    return { id, outcome: 'claimed', consumer };
  }

  async ack(stream: string, group: string, id: string): Promise<PendingActionDto> {
    const acked = await this.core.redis.xack(this.core.keys.stream(stream), group, id);
    if (Number(acked) === 0) {
      await this.get(stream, group);
      throw new NotFoundException(`entry ${id} is not pending in group "${group}"`);
    }
    return { id, outcome: 'acknowledged' };
  }

  /** Dead-letters a pending entry as the library does (dead letter + XACK in one MULTI). */
  async deadLetter(stream: string, group: string, id: string, reason = 'operator'): Promise<PendingActionDto> {
    const key = this.core.keys.stream(stream);
    const pending = await this.pendingEntry(stream, group, id);
    const [entry] = (await this.core.redis.xrange(key, id, id)) as Array<[string, string[]]>;
    if (!entry) throw new ConflictException(`entry ${id} is pending but no longer in the stream (trimmed): acknowledge it instead`);
    const deadLetterId = await deadLetter(this.core.redis, this.core.keys, entry[1], {
      reason,
      error: 'dead-lettered by an operator through the operations API',
      stream,
      entryId: id,
      group,
      consumer: pending.consumer,
      handler: 'ops-api',
      attempts: pending.deliveries,
    });
    return { id, outcome: 'dead-lettered', deadLetterId };
  }

  private async pendingEntry(stream: string, group: string, id: string): Promise<PendingEntryDto> {
    await this.get(stream, group);
    const rows = (await this.core.redis.call('XPENDING', this.core.keys.stream(stream), group, id, id, 1)) as Array<[string, string, number, number]>;
    if (rows.length === 0) throw new NotFoundException(`entry ${id} is not pending in group "${group}"`);
    const [, consumer, idle, deliveries] = rows[0];
    return { id, consumer, idleMs: Number(idle), deliveries: Number(deliveries) };
  }

  private async groupRecords(key: string): Promise<Array<Record<string, unknown>>> {
    try {
      const groups = (await this.core.redis.xinfo('GROUPS', key)) as unknown[][];
      return groups.map((g) => toRecord(g));
    } catch (error) {
      if (String(error).includes('no such key')) return [];
      throw error;
    }
  }

  private async consumers(key: string, group: string): Promise<ConsumerDto[]> {
    const consumers = (await this.core.redis.xinfo('CONSUMERS', key, group)) as unknown[][];
    return consumers.map((c) => {
      const r = toRecord(c);
      return { name: String(r.name), idleMs: Number(r.idle), pending: Number(r.pending) };
    });
  }
}
