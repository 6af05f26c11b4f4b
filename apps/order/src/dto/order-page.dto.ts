import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ORDER_STATUSES, OrderStatus } from '../orders/order-record';

/** One order in a list. */
export class OrderSummaryDto {
  @ApiProperty({ example: 'ORD-MB2K1X7Q-3FA91C' })
  orderId!: string;

  @ApiProperty({ enum: ORDER_STATUSES, example: 'Confirmed' })
  status!: OrderStatus;

  @ApiProperty({ example: 'user-42' })
  userId!: string;

  @ApiProperty({ example: 25 })
  total!: number;

  @ApiProperty({ example: 'EUR' })
  currency!: string;

  @ApiProperty({ example: '2026-11-26T15:40:01.950Z' })
  placedAt!: string;

  @ApiPropertyOptional({ example: 'out-of-stock' })
  cancellationReason?: string;
}

/** A page of orders, most recent first. */
export class OrderPageDto {
  @ApiProperty({ type: [OrderSummaryDto] })
  orders!: OrderSummaryDto[];

  @ApiProperty({ example: 137, description: 'orders in total' })
  total!: number;

  @ApiProperty({ example: 20 })
  limit!: number;

  @ApiProperty({ example: 0 })
  offset!: number;
}
