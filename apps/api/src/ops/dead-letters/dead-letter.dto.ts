import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { NAME_PATTERN, PARTITION_ENTRY_ID_PATTERN, REASON_PATTERN } from '../ops.constants';

export class ListDeadLettersQuery {
  @ApiPropertyOptional({ example: 'payment' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'group must be a consumer group name' })
  group?: string;

  @ApiPropertyOptional({ example: 'handler-failed' })
  @IsOptional()
  @Matches(REASON_PATTERN, { message: 'reason must be a dead-letter reason (handler-failed, invalid-payload, ...)' })
  reason?: string;

  @ApiPropertyOptional({ example: 'OrderPlaced' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'type must be an event type name' })
  type?: string;

  @ApiPropertyOptional({ example: 100, default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  count?: number;

  @ApiPropertyOptional({
    example: '1735689600000-0',
    description: 'the id of the last dead letter of the previous page',
  })
  @IsOptional()
  @Matches(PARTITION_ENTRY_ID_PATTERN, {
    message: 'after must be a dead-letter id (<ms>-<seq>, or p<k>/<ms>-<seq> on partitioned streams)',
  })
  after?: string;
}

export class DeadLetterDto {
  @ApiProperty({
    example: '1735689700000-0',
    description: 'id of the dead-letter entry; p<k>/<ms>-<seq> on partitioned streams',
  })
  id!: string;

  @ApiPropertyOptional({
    example: 3,
    description: 'the partition whose dead-letter stream holds it (partitioned streams only)',
  })
  partition?: number;

  @ApiProperty({ example: 'handler-failed' })
  reason!: string;

  @ApiProperty({ example: 'card gateway timed out' })
  error!: string;

  @ApiProperty({ example: 'orders' })
  stream!: string;

  @ApiProperty({ example: '1735689600000-0', description: 'id of the original entry' })
  entryId!: string;

  @ApiProperty({ example: 'payment' })
  group!: string;

  @ApiProperty({ example: 'api-7f9c-1234' })
  consumer!: string;

  @ApiProperty({ example: 'PaymentService.charge' })
  handler!: string;

  @ApiProperty({ example: 5 })
  attempts!: number;

  @ApiProperty({ example: '2025-01-01T00:00:05.000Z' })
  deadLetteredAt!: string;

  @ApiProperty({ example: '0f8fad5b-d9cb-469f-a165-70867728950e' })
  eventId!: string;

  @ApiProperty({ example: 'OrderPlaced' })
  type!: string;

  @ApiProperty({
    example: { specversion: '1.0', type: 'OrderPlaced', data: '{"orderId":"ORD-7701"}' },
    description: "the original entry's fields",
  })
  envelope!: Record<string, string>;
}

/** Which dead letters to act on: every given condition must hold; `all: true` alone means every one. */
export class DeadLetterSelectionDto {
  @ApiPropertyOptional({
    example: ['1735689700000-0'],
    description: 'dead-letter ids (p<k>/<ms>-<seq> on partitioned streams)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @Matches(PARTITION_ENTRY_ID_PATTERN, {
    each: true,
    message: 'each of ids must be a dead-letter id (<ms>-<seq>, or p<k>/<ms>-<seq> on partitioned streams)',
  })
  ids?: string[];

  @ApiPropertyOptional({ example: 'payment' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'group must be a consumer group name' })
  group?: string;

  @ApiPropertyOptional({ example: 'handler-failed' })
  @IsOptional()
  @Matches(REASON_PATTERN, { message: 'reason must be a dead-letter reason' })
  reason?: string;

  @ApiPropertyOptional({ example: 'OrderPlaced' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'type must be an event type name' })
  type?: string;

  @ApiPropertyOptional({
    example: false,
    description: 'required to act on every dead letter of the stream when no other condition is given',
  })
  @IsOptional()
  @IsBoolean()
  all?: boolean;
}

export class RedrivenDto {
  @ApiProperty({ example: 3, description: 'dead letters sent back to the group that failed them (its redrive stream)' })
  redriven!: number;
}

export class PurgedDto {
  @ApiProperty({ example: 3 })
  purged!: number;
}
