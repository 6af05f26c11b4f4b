import { Body, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { OpsErrorDto } from '../dto/ops-error.dto';
import { OpsController } from '../http/ops-controller.decorator';
import { ReplayJobsService } from './replay-jobs.service';
import { ListReplaysQuery, ReplayAcceptedDto, ReplayStatusDto, StartReplayDto } from './replay.dto';

const replayId = new ParseUUIDPipe({ version: '4', errorHttpStatusCode: HttpStatus.BAD_REQUEST });

@OpsController('replays', 'ops: replays')
@ApiBadRequestResponse({ type: OpsErrorDto, description: 'a malformed body or id (details lists each field)' })
export class ReplaysController {
  constructor(private readonly replays: ReplayJobsService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary:
      "Starts a replay job: re-deliver a range to a group's handlers, move a group, or build a new group; dryRun counts only [operator]",
  })
  @ApiAcceptedResponse({ type: ReplayAcceptedDto })
  @ApiNotFoundResponse({ type: OpsErrorDto, description: 'an unregistered stream, or (position) no such group' })
  @ApiConflictResponse({ type: OpsErrorDto, description: '(new-group) the group exists' })
  start(@Body() body: StartReplayDto): Promise<ReplayAcceptedDto> {
    return this.replays.start(body);
  }

  @Get()
  @ApiOperation({ summary: 'Recent replays, newest first' })
  @ApiOkResponse({ type: [ReplayStatusDto] })
  list(@Query() query: ListReplaysQuery): Promise<ReplayStatusDto[]> {
    return this.replays.list(query.count ?? 20);
  }

  @Get(':id')
  @ApiOperation({ summary: "A replay's state and progress: done, total, measured rate, ETA" })
  @ApiParam({ name: 'id', example: '3b241101-e2bb-4255-8caf-4136c566a962' })
  @ApiOkResponse({ type: ReplayStatusDto })
  @ApiNotFoundResponse({ type: OpsErrorDto, description: 'no such replay' })
  status(@Param('id', replayId) id: string): Promise<ReplayStatusDto> {
    return this.replays.status(id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Cancels a queued or running replay; it stops within ~100 ms [operator]' })
  @ApiParam({ name: 'id', example: '3b241101-e2bb-4255-8caf-4136c566a962' })
  @ApiAcceptedResponse({ type: ReplayStatusDto })
  @ApiNotFoundResponse({ type: OpsErrorDto, description: 'no such replay' })
  @ApiConflictResponse({ type: OpsErrorDto, description: 'the replay has finished' })
  cancel(@Param('id', replayId) id: string): Promise<ReplayStatusDto> {
    return this.replays.cancel(id);
  }
}
