import { Body, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { OpsErrorDto } from '../dto/ops-error.dto';
import { OpsController } from '../http/ops-controller.decorator';
import { EntryIdPipe, RegisteredStreamPipe, SafeNamePipe } from '../http/ops-params';
import {
  ClaimDto,
  CreatedGroupDto,
  CreateGroupDto,
  DeadLetterEntryDto,
  GroupDto,
  MovedPositionDto,
  MovePositionDto,
  PendingActionDto,
  PendingEntryDto,
  PendingQuery,
  PositionPreviewDto,
  PositionPreviewQuery,
} from './group.dto';
import { GroupsService } from './groups.service';

@OpsController('streams/:stream/groups', 'ops: consumer groups')
@ApiParam({ name: 'stream', example: 'orders' })
@ApiBadRequestResponse({ type: OpsErrorDto, description: 'a malformed name, id or body (details lists each field)' })
@ApiNotFoundResponse({
  type: OpsErrorDto,
  description: 'an unregistered stream, or no such group, consumer or pending entry',
})
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @ApiOperation({
    summary: 'Consumer groups of a stream with lag, pending count, position and consumers (XINFO GROUPS / CONSUMERS)',
  })
  @ApiOkResponse({ type: [GroupDto] })
  list(@Param('stream', RegisteredStreamPipe) stream: string): Promise<GroupDto[]> {
    return this.groups.list(stream);
  }

  @Post()
  @ApiOperation({ summary: "Creates a consumer group at the stream's beginning, end or after an entry id [operator]" })
  @ApiCreatedResponse({ type: CreatedGroupDto })
  @ApiConflictResponse({ type: OpsErrorDto, description: 'the group exists' })
  create(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Body() body: CreateGroupDto,
  ): Promise<CreatedGroupDto> {
    return this.groups.create(stream, body.group, body.startFrom);
  }

  @Post(':group/position')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      "Moves a group's last-delivered id to an id, or to just before a time so entries at/after it are delivered again [operator]",
    description:
      'Without "confirm": true nothing moves: the 400 answer says how many entries would be delivered again.',
  })
  @ApiParam({ name: 'group', example: 'analytics' })
  @ApiOkResponse({ type: MovedPositionDto })
  move(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Param('group', SafeNamePipe) group: string,
    @Body() body: MovePositionDto,
  ): Promise<MovedPositionDto> {
    return this.groups.move(stream, group, body);
  }

  @Get(':group/position/preview')
  @ApiOperation({
    summary: "What moving a group's position would do, changing nothing: entries it would get again or skip",
  })
  @ApiParam({ name: 'group', example: 'analytics' })
  @ApiOkResponse({ type: PositionPreviewDto })
  preview(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Param('group', SafeNamePipe) group: string,
    @Query() query: PositionPreviewQuery,
  ): Promise<PositionPreviewDto> {
    return this.groups.preview(stream, group, query);
  }

  @Delete(':group/consumers/:consumer')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Removes a consumer from a group; refused (409) while it owns pending entries [operator]' })
  @ApiParam({ name: 'group', example: 'analytics' })
  @ApiParam({ name: 'consumer', example: 'api-7f9c-1234' })
  @ApiNoContentResponse({ description: 'removed' })
  @ApiConflictResponse({ type: OpsErrorDto, description: 'the consumer still owns pending entries' })
  deleteConsumer(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Param('group', SafeNamePipe) group: string,
    @Param('consumer', SafeNamePipe) consumer: string,
  ): Promise<void> {
    return this.groups.deleteConsumer(stream, group, consumer);
  }

  @Get(':group/pending')
  @ApiOperation({
    summary: "A group's pending entries (delivered, not acknowledged), oldest first, optionally of one consumer",
  })
  @ApiParam({ name: 'group', example: 'analytics' })
  @ApiOkResponse({ type: [PendingEntryDto] })
  pending(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Param('group', SafeNamePipe) group: string,
    @Query() query: PendingQuery,
  ): Promise<PendingEntryDto[]> {
    return this.groups.pending(stream, group, query.count ?? 100, query.consumer);
  }

  @Post(':group/pending/:id/claim')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Gives a pending entry to another consumer (XCLAIM) [operator]' })
  @ApiParam({ name: 'group', example: 'analytics' })
  @ApiParam({ name: 'id', example: '1735689600000-0' })
  @ApiOkResponse({ type: PendingActionDto })
  claim(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Param('group', SafeNamePipe) group: string,
    @Param('id', EntryIdPipe) id: string,
    @Body() body: ClaimDto,
  ): Promise<PendingActionDto> {
    return this.groups.claim(stream, group, id, body.consumer);
  }

  @Post(':group/pending/:id/ack')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Acknowledges a pending entry without handling it [operator]' })
  @ApiParam({ name: 'group', example: 'analytics' })
  @ApiParam({ name: 'id', example: '1735689600000-0' })
  @ApiOkResponse({ type: PendingActionDto })
  ack(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Param('group', SafeNamePipe) group: string,
    @Param('id', EntryIdPipe) id: string,
  ): Promise<PendingActionDto> {
    return this.groups.ack(stream, group, id);
  }

  @Post(':group/pending/:id/dead-letter')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: "Moves a pending entry to the stream's dead letters and acknowledges it, in one MULTI [operator]",
  })
  @ApiParam({ name: 'group', example: 'analytics' })
  @ApiParam({ name: 'id', example: '1735689600000-0' })
  @ApiOkResponse({ type: PendingActionDto })
  @ApiConflictResponse({ type: OpsErrorDto, description: 'the entry was trimmed from the stream' })
  deadLetter(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Param('group', SafeNamePipe) group: string,
    @Param('id', EntryIdPipe) id: string,
    @Body() body: DeadLetterEntryDto,
  ): Promise<PendingActionDto> {
    return this.groups.deadLetter(stream, group, id, body.reason);
  }
}
