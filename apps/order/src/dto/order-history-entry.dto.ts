import { ApiProperty } from '@nestjs/swagger';

/** One event that moved an order, as received. */
export class OrderHistoryEntryDto {
  @ApiProperty({ example: 'InventoryReserved' })
  type!: string;

  @ApiProperty({ example: 'ORD-MB2K1X7Q-3FA91C:reserved', description: 'the CloudEvents id of the event' })
  eventId!: string;

  @ApiProperty({ example: '2026-11-26T15:40:02.120Z', description: 'when the fact happened (the event time)' })
  time!: string;

  @ApiProperty({ example: 'inventory-service' })
  source!: string;
}
