import { EventContract } from '@nest-streams/event-bus';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsISO8601,
  IsNumber,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';
import { OrderItem } from './order-item';

export const CANCELLATION_REASONS = ['payment-declined', 'out-of-stock'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

/** The order will not ship. Inventory releases what it reserved; payment refunds what it charged. */
@EventContract({
  type: 'OrderCancelled',
  version: 1,
  stream: 'orders',
  subjectField: 'orderId',
  producedBy: ['order-service'],
})
export class OrderCancelled {
  @IsString()
  orderId!: string;

  @IsString()
  userId!: string;

  @IsEmail()
  userEmail!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => OrderItem)
  items!: OrderItem[];

  @IsNumber()
  @Min(0)
  total!: number;

  @IsString()
  currency!: string;

  @IsIn(CANCELLATION_REASONS)
  reason!: CancellationReason;

  /** Human-readable detail: which sku was short, why the card was declined. */
  @IsString()
  detail!: string;

  @IsISO8601()
  cancelledAt!: string;

  constructor(props?: OrderCancelled) {
    if (props) Object.assign(this, props);
  }
}
