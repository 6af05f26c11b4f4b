import { EventContract } from '@app/event-bus';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsEmail, IsISO8601, IsNumber, IsString, Min, ValidateNested } from 'class-validator';
import { OrderItem } from './order-item';

/** A customer placed an order. Fat: carries everything inventory, payment and analytics need. */
@EventContract({ type: 'OrderPlaced', version: 1, stream: 'orders', subjectField: 'orderId' })
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

  constructor(props?: OrderPlaced) {
    if (props) Object.assign(this, props);
  }
}
