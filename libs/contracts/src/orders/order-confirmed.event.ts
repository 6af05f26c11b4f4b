import { EventContract } from '@nest-streams/event-bus';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsEmail, IsISO8601, IsNumber, IsString, Min, ValidateNested } from 'class-validator';
import { OrderItem } from './order-item';

/** Stock is reserved and the payment went through: the order will ship. */
@EventContract({
  type: 'OrderConfirmed',
  version: 1,
  stream: 'orders',
  subjectField: 'orderId',
  producedBy: ['order-service'],
})
export class OrderConfirmed {
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

  @IsString()
  paymentId!: string;

  @IsISO8601()
  confirmedAt!: string;

  constructor(props?: OrderConfirmed) {
    if (props) Object.assign(this, props);
  }
}
