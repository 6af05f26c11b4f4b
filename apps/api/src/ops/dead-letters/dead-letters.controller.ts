import { BadRequestException, Body, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { DeadLetterFilter, DeadLetterService } from '@nest-streams/event-bus';
import { OpsErrorDto } from '../dto/ops-error.dto';
import { OpsController } from '../http/ops-controller.decorator';
import { RegisteredStreamPipe } from '../http/ops-params';
import { DeadLetterDto, DeadLetterSelectionDto, ListDeadLettersQuery, PurgedDto, RedrivenDto } from './dead-letter.dto';

@OpsController('streams/:stream/dead-letters', 'ops: dead letters')
@ApiParam({ name: 'stream', example: 'orders' })
@ApiBadRequestResponse({
  type: OpsErrorDto,
  description: 'a malformed query or body, or no selection (pass all: true to act on every dead letter)',
})
@ApiNotFoundResponse({ type: OpsErrorDto, description: 'a stream no event contract names' })
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetterService) {}

  @Get()
  @ApiOperation({ summary: 'Dead letters of a stream, oldest first, by group, reason and type; paged with after' })
  @ApiOkResponse({ type: [DeadLetterDto] })
  list(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Query() query: ListDeadLettersQuery,
  ): Promise<DeadLetterDto[]> {
    return this.deadLetters.list(
      stream,
      { group: query.group, reason: query.reason, type: query.type },
      { count: query.count ?? 100, after: query.after },
    );
  }

  @Post('redrive')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Sends matching dead letters back to the group that failed them, and to no other [operator]',
  })
  @ApiOkResponse({ type: RedrivenDto })
  async redrive(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Body() body: DeadLetterSelectionDto,
  ): Promise<RedrivenDto> {
    return { redriven: await this.deadLetters.redrive(stream, selection(body)) };
  }

  @Post('purge')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Deletes matching dead letters for good [operator]' })
  @ApiOkResponse({ type: PurgedDto })
  async purge(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Body() body: DeadLetterSelectionDto,
  ): Promise<PurgedDto> {
    return { purged: await this.deadLetters.purge(stream, selection(body)) };
  }
}

function selection(body: DeadLetterSelectionDto): DeadLetterFilter {
  const narrowed =
    body.ids !== undefined || body.group !== undefined || body.reason !== undefined || body.type !== undefined;
  if (!narrowed && body.all !== true) {
    throw new BadRequestException({
      message: 'refusing to act on every dead letter: pass ids, group, reason or type, or { "all": true }',
      details: [{ field: 'all', messages: ['all must be true when no ids, group, reason or type is given'] }],
    });
  }
  return { ids: body.ids, group: body.group, reason: body.reason, type: body.type, all: body.all };
}
