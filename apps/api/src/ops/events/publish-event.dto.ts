import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import { NAME_PATTERN } from '../ops.constants';

export class PublishEventDto {
  @ApiProperty({ example: 'OrderPlaced' })
  @Matches(NAME_PATTERN, { message: 'type must be an event type name' })
  type!: string;

  @ApiPropertyOptional({ example: 1, description: 'the newest registered version when absent' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version?: number;

  @ApiProperty({
    example: {
      orderId: 'ORD-7701',
      userId: 'u-1',
      userEmail: 'ada@example.com',
      items: [{ sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: 12.5, quantity: 2 }],
      total: 25,
      currency: 'EUR',
      placedAt: '2025-01-01T00:00:00.000Z',
    },
    description: "the payload, validated against the type's contract",
  })
  @IsObject()
  data!: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 'ORD-7701',
    description: "the ordering key; the contract's subject field when absent",
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  subject?: string;
}

export class PublishedEventDto {
  @ApiProperty({ example: '0f8fad5b-d9cb-469f-a165-70867728950e', description: 'the event id' })
  id!: string;

  @ApiProperty({ example: '1735689600000-0', description: 'the stream entry id' })
  entryId!: string;

  @ApiProperty({ example: 'orders' })
  stream!: string;
}
