import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsObject, IsOptional, Matches, Max, Min, ValidateNested } from 'class-validator';
import { IsIdOrTime } from '../http/is-id-or-time.validator';
import { NAME_PATTERN } from '../ops.constants';

export const REPLAY_TARGETS = ['handlers', 'position', 'new-group'] as const;
export type ReplayTargetKind = (typeof REPLAY_TARGETS)[number];
export const REPLAY_STATES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
export type ReplayState = (typeof REPLAY_STATES)[number];

export class ReplayTargetDto {
  @ApiProperty({
    enum: REPLAY_TARGETS,
    example: 'handlers',
    description:
      "handlers: copy the range to the group's replay stream (only its handlers see it, ctx.replay); " +
      'position: move the group to `from`; new-group: create the group at `from`',
  })
  @IsIn(REPLAY_TARGETS)
  kind!: ReplayTargetKind;

  @ApiProperty({ example: 'analytics' })
  @Matches(NAME_PATTERN, { message: 'group must be 1-200 characters from A-Z a-z 0-9 . _ - :' })
  group!: string;
}

export class StartReplayDto {
  @ApiProperty({ example: 'orders' })
  @Matches(NAME_PATTERN, { message: 'stream must be 1-200 characters from A-Z a-z 0-9 . _ - :' })
  stream!: string;

  @ApiPropertyOptional({
    example: '2025-01-01T00:00:00Z',
    description: 'stream id or ISO time, inclusive; the stream start when absent',
  })
  @IsOptional()
  @IsIdOrTime()
  from?: string;

  @ApiPropertyOptional({
    example: '2025-01-02T00:00:00Z',
    description: 'stream id or ISO time, inclusive; the stream end when absent',
  })
  @IsOptional()
  @IsIdOrTime()
  to?: string;

  @ApiProperty({ type: ReplayTargetDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ReplayTargetDto)
  target!: ReplayTargetDto;

  @ApiPropertyOptional({ example: false, description: 'count only, change nothing' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;

  @ApiPropertyOptional({ example: 5000, description: 'events per second (handlers); unlimited when absent' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  ratePerSec?: number;

  @ApiPropertyOptional({
    example: false,
    description: "handlers: run even events the group's dedupe guard remembers as handled",
  })
  @IsOptional()
  @IsBoolean()
  bypassDedupe?: boolean;
}

export class ReplayAcceptedDto {
  @ApiProperty({ example: '3b241101-e2bb-4255-8caf-4136c566a962' })
  id!: string;

  @ApiProperty({ enum: REPLAY_STATES, example: 'queued' })
  state!: ReplayState;
}

export class ReplayStatusDto {
  @ApiProperty({ example: '3b241101-e2bb-4255-8caf-4136c566a962' })
  id!: string;

  @ApiProperty({ enum: REPLAY_STATES, example: 'running' })
  state!: ReplayState;

  @ApiProperty({ example: 'orders' })
  stream!: string;

  @ApiPropertyOptional({ example: '2025-01-01T00:00:00Z' })
  from?: string;

  @ApiPropertyOptional({ example: '2025-01-02T00:00:00Z' })
  to?: string;

  @ApiProperty({ type: ReplayTargetDto })
  target!: ReplayTargetDto;

  @ApiProperty({ example: false })
  dryRun!: boolean;

  @ApiProperty({ example: false })
  bypassDedupe!: boolean;

  @ApiPropertyOptional({ example: 5000, description: 'the requested limit' })
  ratePerSecLimit?: number;

  @ApiProperty({ example: 20000, description: 'entries replayed so far' })
  done!: number;

  @ApiProperty({ example: 50000, description: 'entries in the range (0 until counted)' })
  total!: number;

  @ApiProperty({ example: 4980.5, description: 'measured entries per second since the replay started' })
  ratePerSec!: number;

  @ApiProperty({
    example: 6,
    nullable: true,
    type: Number,
    description: 'seconds left at the measured rate; null when unknown, 0 when finished',
  })
  etaSeconds!: number | null;

  @ApiProperty({ example: '2025-01-01T00:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ example: '2025-01-01T00:00:00.100Z', nullable: true, type: String })
  startedAt!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  finishedAt!: string | null;

  @ApiPropertyOptional({ example: 'interrupted by shutdown after 20000 of 50000 entries' })
  error?: string;
}

export class ListReplaysQuery {
  @ApiPropertyOptional({ example: 20, default: 20, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  count?: number;
}
