import { Body, ConflictException, Get, HttpCode, HttpStatus, Param, Post, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { RetentionService } from '@nest-streams/event-bus';
import { OpsErrorDto } from '../dto/ops-error.dto';
import { OpsController } from '../http/ops-controller.decorator';
import { RegisteredStreamPipe } from '../http/ops-params';
import { RetentionDto, SetRetentionDto, TrimDto, TrimResultDto } from './retention.dto';

@OpsController('streams/:stream', 'ops: retention')
@ApiParam({ name: 'stream', example: 'orders' })
@ApiBadRequestResponse({ type: OpsErrorDto, description: 'a malformed stream name or body' })
@ApiNotFoundResponse({ type: OpsErrorDto, description: 'a stream no event contract names' })
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get('retention')
  @ApiOperation({ summary: "A stream's retention policy (null: none)" })
  @ApiOkResponse({ type: RetentionDto })
  async get(@Param('stream', RegisteredStreamPipe) stream: string): Promise<RetentionDto> {
    return { stream, policy: await this.retention.policy(stream) };
  }

  @Put('retention')
  @ApiOperation({ summary: "Sets a stream's retention by length and/or age; {} removes the policy [operator]" })
  @ApiOkResponse({ type: RetentionDto })
  async set(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Body() body: SetRetentionDto,
  ): Promise<RetentionDto> {
    const policy =
      body.maxLength === undefined && body.maxAgeMs === undefined
        ? null
        : { maxLength: body.maxLength, maxAgeMs: body.maxAgeMs };
    await this.retention.setPolicy(stream, policy);
    return { stream, policy: await this.retention.policy(stream) };
  }

  @Post('trim')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      'Trims the stream by its policy now, never past an entry a group has not acknowledged unless force [operator]',
  })
  @ApiOkResponse({ type: TrimResultDto })
  @ApiConflictResponse({ type: OpsErrorDto, description: 'the stream has no retention policy' })
  async trim(@Param('stream', RegisteredStreamPipe) stream: string, @Body() body: TrimDto): Promise<TrimResultDto> {
    if (!(await this.retention.policy(stream))) {
      throw new ConflictException(
        `stream ${stream} has no retention policy: PUT /ops/streams/${stream}/retention first`,
      );
    }
    return this.retention.apply(stream, { force: body.force === true });
  }
}
