import { ApiProperty } from '@nestjs/swagger';

export class CancelledOrdersDto {
  @ApiProperty({ example: 3 })
  total!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { 'payment-declined': 1, 'out-of-stock': 2 },
  })
  byReason!: Record<string, number>;
}

export class SkuQuantityDto {
  @ApiProperty({ example: 'SKU-MUG' })
  sku!: string;

  @ApiProperty({ example: 12, description: 'units in confirmed orders' })
  quantity!: number;
}

export class DailyFiguresDto {
  @ApiProperty({ example: '2025-03-14', description: 'UTC date of the fact (placedAt, confirmedAt, cancelledAt)' })
  date!: string;

  @ApiProperty({ example: 5 })
  placed!: number;

  @ApiProperty({ example: 3 })
  confirmed!: number;

  @ApiProperty({ example: 2 })
  cancelled!: number;

  @ApiProperty({ example: 112.3, description: 'sum of the totals of the orders confirmed that day' })
  revenue!: number;
}

/** The order flow in numbers, from the events alone; each fact counted once per order. */
export class AnalyticsSummaryDto {
  @ApiProperty({ example: 5 })
  ordersPlaced!: number;

  @ApiProperty({ example: 3 })
  ordersConfirmed!: number;

  @ApiProperty({ type: CancelledOrdersDto })
  ordersCancelled!: CancelledOrdersDto;

  @ApiProperty({ example: 112.3, description: 'sum of the totals of confirmed orders' })
  revenue!: number;

  @ApiProperty({ example: 'EUR' })
  currency!: string;

  @ApiProperty({
    type: [SkuQuantityDto],
    description: 'the 10 SKUs with the most units in confirmed orders, most first (ties by SKU)',
  })
  topSkus!: SkuQuantityDto[];

  @ApiProperty({ type: [DailyFiguresDto], description: 'one entry per UTC day with any fact, oldest first' })
  daily!: DailyFiguresDto[];
}
