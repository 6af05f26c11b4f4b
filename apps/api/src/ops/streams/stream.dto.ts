import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsIdOrTime } from '../http/is-id-or-time.validator';
import { NAME_PATTERN, PARTITION_ENTRY_ID_PATTERN } from '../ops.constants';

export class RetentionPolicyDto {
  @ApiPropertyOptional({ example: 1_000_000, description: 'keep at most this many entries' })
  maxLength?: number;

  @ApiPropertyOptional({ example: 604_800_000, description: 'keep nothing older than this (ms)' })
  maxAgeMs?: number;
}

export class StreamSummaryDto {
  @ApiProperty({ example: 'orders' })
  stream!: string;

  @ApiProperty({ example: 1523 })
  length!: number;

  @ApiProperty({ example: '1735689600000-0', nullable: true, type: String })
  firstId!: string | null;

  @ApiProperty({ example: '1735776000000-3', nullable: true, type: String })
  lastId!: string | null;

  @ApiProperty({
    example: '2025-01-01T00:00:00.000Z',
    nullable: true,
    type: String,
    description: 'time of the first entry id',
  })
  firstTime!: string | null;

  @ApiProperty({
    example: '2025-01-02T00:00:00.000Z',
    nullable: true,
    type: String,
    description: 'time of the last entry id',
  })
  lastTime!: string | null;

  @ApiProperty({ example: 4, description: 'consumer groups reading the stream' })
  groups!: number;

  @ApiProperty({ type: RetentionPolicyDto, nullable: true })
  retention!: RetentionPolicyDto | null;

  @ApiProperty({ example: 2 })
  deadLetters!: number;
}

export class ListEntriesQuery {
  @ApiPropertyOptional({ enum: ['newest', 'oldest'], default: 'newest' })
  @IsOptional()
  @IsIn(['newest', 'oldest'])
  order?: 'newest' | 'oldest';

  @ApiPropertyOptional({ example: 50, default: 50, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  count?: number;

  @ApiPropertyOptional({ example: '1735689600000-0', description: 'nextCursor of the previous page' })
  @IsOptional()
  @Matches(PARTITION_ENTRY_ID_PATTERN, {
    message:
      'cursor must be an entry id (<ms>-<seq>, or p<k>/<ms>-<seq> on partitioned streams), the nextCursor of a previous page',
  })
  cursor?: string;

  @ApiPropertyOptional({ example: 'OrderPlaced' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'type must be an event type name' })
  type?: string;

  @ApiPropertyOptional({ example: 'ORD-7701' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  subject?: string;

  @ApiPropertyOptional({
    example: 'SKU-MUG',
    description: 'text the payload (data, as stored) contains, case-insensitive',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  text?: string;

  @ApiPropertyOptional({ example: '2025-01-01T00:00:00Z', description: 'stream id or ISO time, inclusive' })
  @IsOptional()
  @IsIdOrTime()
  from?: string;

  @ApiPropertyOptional({ example: '1735776000000-3', description: 'stream id or ISO time, inclusive' })
  @IsOptional()
  @IsIdOrTime()
  to?: string;
}

export class StreamEntryDto {
  @ApiProperty({ example: '1735689600000-0', description: 'the entry id; p<k>/<ms>-<seq> on partitioned streams' })
  id!: string;

  @ApiProperty({ example: '2025-01-01T00:00:00.000Z', nullable: true, type: String, description: "the event's time" })
  time!: string | null;

  @ApiProperty({ example: 'OrderPlaced', nullable: true, type: String })
  type!: string | null;

  @ApiProperty({ example: 1, nullable: true, type: Number })
  version!: number | null;

  @ApiProperty({ example: 'order-service', nullable: true, type: String })
  source!: string | null;

  @ApiProperty({ example: 'ORD-7701', nullable: true, type: String })
  subject!: string | null;

  @ApiProperty({ example: '0f8fad5b-d9cb-469f-a165-70867728950e', nullable: true, type: String })
  eventId!: string | null;

  @ApiProperty({ example: '0f8fad5b-d9cb-469f-a165-70867728950e', nullable: true, type: String })
  correlationId!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  causationId!: string | null;

  @ApiProperty({
    example: { orderId: 'ORD-7701', total: 25 },
    description: 'the payload (the raw text when it is not JSON)',
  })
  data!: unknown;
}

export class EntryPageDto {
  @ApiProperty({ type: [StreamEntryDto] })
  entries!: StreamEntryDto[];

  @ApiProperty({
    example: '1735689600000-0',
    nullable: true,
    type: String,
    description: 'pass as cursor for the next page; null at the end of the range',
  })
  nextCursor!: string | null;
}
