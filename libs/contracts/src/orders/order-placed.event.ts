import { EventContract } from '@nest-streams/event-bus';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsISO8601,
  IsNumber,
  IsOptional,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';
import { OrderItem } from './order-item';

/**
 * A customer placed an order. Fat: carries everything inventory, payment and analytics need.
 * The newest version (v2); handlers receive every OrderPlaced in this shape, v1 entries upcast.
 */
@EventContract({
  type: 'OrderPlaced',
  version: 2,
  stream: 'orders',
  subjectField: 'orderId',
  producedBy: ['order-service'],
})
export class OrderPlaced {
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

  @IsISO8601()
  placedAt!: string;

  /**
   * v2: the code the customer entered at checkout, carried for reporting (prices already include
   * it). `null` when there was none, and for v1 events, which predate discount codes (their
   * upcaster writes `null`). Optional in the contract, so a producer may also leave it out:
   * read it as `order.discountCode ?? null`.
   */
  @IsOptional()
  @IsString()
  discountCode?: string | null;

  constructor(props?: OrderPlaced) {
    if (props) Object.assign(this, props);
  }
}
