import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CANCELLATION_REASONS, CancellationReason, OrderItem } from '@app/contracts';
import { ORDER_STATUSES, OrderStatus } from '../orders/order-record';
import { OrderHistoryEntryDto } from './order-history-entry.dto';

/** Why an order was cancelled. */
export class OrderCancellationDto {
  @ApiProperty({ enum: CANCELLATION_REASONS, example: 'out-of-stock' })
  reason!: CancellationReason;

  @ApiProperty({ example: 'out of stock: SKU-LTD (requested 2, available 1)' })
  detail!: string;

  @ApiProperty({ example: '2026-11-26T15:40:02.300Z' })
  cancelledAt!: string;
}

/** An order as the order service sees it. */
export class OrderViewDto {
  @ApiProperty({ example: 'ORD-MB2K1X7Q-3FA91C' })
  orderId!: string;

  @ApiProperty({ enum: ORDER_STATUSES, example: 'Pending' })
  status!: OrderStatus;

  @ApiProperty({ example: 'user-42' })
  userId!: string;

  @ApiProperty({ example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ type: [OrderItem] })
  items!: OrderItem[];

  @ApiProperty({ example: 25 })
  total!: number;

  @ApiProperty({ example: 'EUR' })
  currency!: string;

  @ApiProperty({ example: '2026-11-26T15:40:01.950Z' })
  placedAt!: string;

  @ApiPropertyOptional({
    example: 'SPRING10',
    description: 'the discount code given when the order was placed, if any',
  })
  discountCode?: string;

  @ApiPropertyOptional({ example: 'PAY-9f1c', description: 'set once the payment went through' })
  paymentId?: string;

  @ApiPropertyOptional({ example: '2026-11-26T15:40:02.300Z', description: 'set when Confirmed' })
  confirmedAt?: string;

  @ApiPropertyOptional({ type: OrderCancellationDto, description: 'set when Cancelled' })
  cancellation?: OrderCancellationDto;

  @ApiProperty({ type: [OrderHistoryEntryDto], description: 'the events that moved the order, in the order received' })
  history!: OrderHistoryEntryDto[];
}
