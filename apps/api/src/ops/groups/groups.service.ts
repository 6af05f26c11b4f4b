import { BadRequestException, Injectable } from '@nestjs/common';
import { GroupAdminService } from '@nest-streams/event-bus';
import type {
  CreatedGroupDto,
  GroupDto,
  MovedPositionDto,
  MovePositionDto,
  PendingActionDto,
  PendingEntryDto,
  PositionPreviewDto,
} from './group.dto';

/**
 * Consumer groups of a stream over HTTP: the library's GroupAdminService (inspect, create, move,
 * settle pending entries by hand, remove consumers), plus the confirm step of a move. Its
 * GroupAdminError becomes 404 or 409 in OpsExceptionFilter.
 */
@Injectable()
export class GroupsService {
  constructor(private readonly admin: GroupAdminService) {}

  list(stream: string): Promise<GroupDto[]> {
    return this.admin.groups(stream);
  }

  /** The group, or 404. */
  async get(stream: string, group: string): Promise<GroupDto> {
    return this.admin.group(stream, group);
  }

  async exists(stream: string, group: string): Promise<boolean> {
    return this.admin.hasGroup(stream, group);
  }

  async create(stream: string, group: string, startFrom: string): Promise<CreatedGroupDto> {
    const created = await this.admin.createGroup(stream, group, startFrom);
    return { stream, group, lastDeliveredId: created.lastDeliveredId };
  }

  /**
   * What moving the group would do, changing nothing: how many entries follow the new position,
   * and how many of them the group would get again, or would never get. The entries not yet
   * delivered are the group's lag, or where Redis cannot tell it (after a SETID) the entries after
   * its last-delivered id.
   */
  async preview(stream: string, group: string, to: { id?: string; time?: string }): Promise<PositionPreviewDto> {
    const target = eitherIdOrTime(to);
    const now = await this.admin.group(stream, group);
    const [moved, undelivered] = await Promise.all([
      this.admin.moveGroup(stream, group, target, { dryRun: true }),
      now.lag ??
        this.admin.moveGroup(stream, group, { id: now.lastDeliveredId }, { dryRun: true }).then((m) => m.redeliver),
    ]);
    return {
      stream,
      group,
      from: now.lastDeliveredId,
      lastDeliveredId: moved.lastDeliveredId,
      redeliver: moved.redeliver,
      replay: Math.max(0, moved.redeliver - undelivered),
      skip: Math.max(0, undelivered - moved.redeliver),
    };
  }

  /** Moves the group's position; without `confirm: true` only says what it would do (400). */
  async move(stream: string, group: string, body: MovePositionDto): Promise<MovedPositionDto> {
    const to = eitherIdOrTime(body);
    if (body.confirm !== true) {
      const preview = await this.admin.moveGroup(stream, group, to, { dryRun: true });
      const what = `moving group "${group}" of stream ${stream} to ${preview.lastDeliveredId} would deliver ${preview.redeliver} entries (again)`;
      throw new BadRequestException({
        message: `${what}: nothing was changed; send "confirm": true to do it`,
        details: [{ field: 'confirm', messages: [`confirm must be true: ${what}`] }],
      });
    }
    const moved = await this.admin.moveGroup(stream, group, to);
    return { stream, group, ...moved };
  }

  deleteConsumer(stream: string, group: string, consumer: string): Promise<void> {
    return this.admin.removeConsumer(stream, group, consumer);
  }

  pending(stream: string, group: string, count: number, consumer?: string): Promise<PendingEntryDto[]> {
    return this.admin.pending(stream, group, { count, consumer });
  }

  async claim(stream: string, group: string, id: string, consumer: string): Promise<PendingActionDto> {
    await this.admin.claimPending(stream, group, id, consumer);
    return { id, outcome: 'claimed', consumer };
  }

  async ack(stream: string, group: string, id: string): Promise<PendingActionDto> {
    await this.admin.ackPending(stream, group, id);
    return { id, outcome: 'acknowledged' };
  }

  /** Dead-letters a pending entry as the library's consumers do (its dedupe claim released, so a redrive runs). */
  async deadLetter(stream: string, group: string, id: string, reason = 'operator'): Promise<PendingActionDto> {
    const deadLetterId = await this.admin.deadLetterPending(stream, group, id, {
      reason,
      error: 'dead-lettered by an operator through the operations API',
      handler: 'ops-api',
    });
    return { id, outcome: 'dead-lettered', deadLetterId };
  }
}

/** `{ id }` or `{ time }`; a 400 naming the field unless exactly one is given. */
function eitherIdOrTime(body: { id?: string; time?: string }): { id: string } | { time: string } {
  if ((body.id === undefined) === (body.time === undefined)) {
    throw new BadRequestException({
      message: 'give either id or time (not both)',
      details: [{ field: body.id === undefined ? 'id' : 'time', messages: ['give either id or time (not both)'] }],
    });
  }
  return body.id !== undefined ? { id: body.id } : { time: body.time! };
}
