import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Matches, Max, Min, ValidateBy } from 'class-validator';
import { isIsoTime } from '../http/is-id-or-time.validator';
import { ENTRY_ID_PATTERN, NAME_PATTERN, REASON_PATTERN } from '../ops.constants';

const NAME_MESSAGE = (field: string): string => `${field} must be 1-200 characters from A-Z a-z 0-9 . _ - :`;

export class ConsumerDto {
  @ApiProperty({ example: 'api-7f9c-1234' })
  name!: string;

  @ApiProperty({ example: 1520, description: 'ms since the consumer last read or claimed' })
  idleMs!: number;

  @ApiProperty({ example: 3 })
  pending!: number;

  @ApiPropertyOptional({
    example: 3,
    description:
      'the partition whose consumer group it reads (partitioned streams only; its name is then p<partition>)',
  })
  partition?: number;
}

export class GroupDto {
  @ApiProperty({ example: 'inventory' })
  group!: string;

  @ApiProperty({
    example: 12,
    nullable: true,
    type: Number,
    description: 'entries not yet delivered to the group (null when Redis cannot tell)',
  })
  lag!: number | null;

  @ApiProperty({ example: 3, description: 'delivered and not acknowledged' })
  pending!: number;

  @ApiProperty({ example: '1735689600000-0' })
  lastDeliveredId!: string;

  @ApiProperty({ type: [ConsumerDto] })
  consumers!: ConsumerDto[];
}

export class CreateGroupDto {
  @ApiProperty({ example: 'audit' })
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE('group') })
  group!: string;

  @ApiProperty({ example: 'beginning', description: "'beginning', 'end' or an entry id the group starts after" })
  @ValidateBy({
    name: 'isStartFrom',
    validator: {
      validate: (value: unknown) =>
        value === 'beginning' || value === 'end' || (typeof value === 'string' && ENTRY_ID_PATTERN.test(value)),
      defaultMessage: () => "startFrom must be 'beginning', 'end' or an entry id (<ms>-<seq>)",
    },
  })
  startFrom!: string;
}

export class CreatedGroupDto {
  @ApiProperty({ example: 'orders' })
  stream!: string;

  @ApiProperty({ example: 'audit' })
  group!: string;

  @ApiProperty({ example: '0-0' })
  lastDeliveredId!: string;
}

export class MovePositionDto {
  @ApiPropertyOptional({
    example: '1735689600000-0',
    description: 'the new last-delivered id: entries after it are delivered (again)',
  })
  @IsOptional()
  @Matches(ENTRY_ID_PATTERN, { message: 'id must be an entry id (<ms>-<seq>)' })
  id?: string;

  @ApiPropertyOptional({
    example: '2025-01-01T00:00:00Z',
    description: 'entries at or after this time are delivered (again)',
  })
  @IsOptional()
  @ValidateBy({
    name: 'isIsoTime',
    validator: { validate: isIsoTime, defaultMessage: () => 'time must be an ISO 8601 time (2025-01-31T12:00:00Z)' },
  })
  time?: string;

  @ApiPropertyOptional({
    example: true,
    description: 'without it, nothing moves and the answer (400) says what would happen',
  })
  @IsOptional()
  @IsBoolean()
  confirm?: boolean;
}

/** Where a move would take a group: `GET .../position/preview?id=` or `?time=`. */
export class PositionPreviewQuery {
  @ApiPropertyOptional({ example: '1735689600000-0', description: 'the new last-delivered id' })
  @IsOptional()
  @Matches(ENTRY_ID_PATTERN, { message: 'id must be an entry id (<ms>-<seq>)' })
  id?: string;

  @ApiPropertyOptional({ example: '2025-01-01T00:00:00Z', description: 'entries at or after this time' })
  @IsOptional()
  @ValidateBy({
    name: 'isIsoTime',
    validator: { validate: isIsoTime, defaultMessage: () => 'time must be an ISO 8601 time (2025-01-31T12:00:00Z)' },
  })
  time?: string;
}

export class PositionPreviewDto {
  @ApiProperty({ example: 'orders' })
  stream!: string;

  @ApiProperty({ example: 'inventory' })
  group!: string;

  @ApiProperty({ example: '1735689700000-0', description: "the group's last-delivered id now" })
  from!: string;

  @ApiProperty({ example: '1735689599999-18446744073709551615', description: 'the last-delivered id after the move' })
  lastDeliveredId!: string;

  @ApiProperty({ example: 42, description: 'entries after the new position: the group would be delivered these' })
  redeliver!: number;

  @ApiProperty({ example: 40, description: 'entries the group would be delivered again (the position moves back)' })
  replay!: number;

  @ApiProperty({
    example: 0,
    description: 'entries not yet delivered that the group would never be delivered (the position moves forward)',
  })
  skip!: number;
}

export class MovedPositionDto {
  @ApiProperty({ example: 'orders' })
  stream!: string;

  @ApiProperty({ example: 'inventory' })
  group!: string;

  @ApiProperty({ example: '1735689599999-18446744073709551615' })
  lastDeliveredId!: string;

  @ApiProperty({ example: 42, description: 'entries the group will be delivered again' })
  redeliver!: number;
}

export class PendingQuery {
  @ApiPropertyOptional({ example: 100, default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  count?: number;

  @ApiPropertyOptional({ example: 'api-7f9c-1234' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE('consumer') })
  consumer?: string;
}

export class PendingEntryDto {
  @ApiProperty({ example: '1735689600000-0' })
  id!: string;

  @ApiProperty({ example: 'api-7f9c-1234' })
  consumer!: string;

  @ApiProperty({ example: 45000 })
  idleMs!: number;

  @ApiProperty({ example: 2 })
  deliveries!: number;
}

export class ClaimDto {
  @ApiProperty({ example: 'ops-recovery' })
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE('consumer') })
  consumer!: string;
}

export class DeadLetterEntryDto {
  @ApiPropertyOptional({ example: 'operator', description: 'short machine-readable reason', default: 'operator' })
  @IsOptional()
  @Matches(REASON_PATTERN, { message: 'reason must be 1-64 characters from A-Z a-z 0-9 . _ - :' })
  reason?: string;
}

export class PendingActionDto {
  @ApiProperty({ example: '1735689600000-0' })
  id!: string;

  @ApiProperty({ example: 'claimed', enum: ['claimed', 'acknowledged', 'dead-lettered'] })
  outcome!: 'claimed' | 'acknowledged' | 'dead-lettered';

  @ApiPropertyOptional({ example: 'ops-recovery' })
  consumer?: string;

  @ApiPropertyOptional({ example: '1735689700000-0', description: 'id of the dead letter written' })
  deadLetterId?: string;
}
