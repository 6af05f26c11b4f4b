import { EventContract } from '@nest-streams/event-bus';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsEmail, IsISO8601, IsNumber, IsString, Min, ValidateNested } from 'class-validator';
import { OrderItem } from './order-item';

/**
 * OrderPlaced as first published (v1): still accepted from producers that have not moved to v2;
 * consumers receive it upcast to `OrderPlaced` (v2) by `OrderPlacedV1ToV2`. Frozen: never edit a
 * published version, add a new one.
 */
@EventContract({
  type: 'OrderPlaced',
  version: 1,
  stream: 'orders',
  subjectField: 'orderId',
  producedBy: ['order-service'],
})
export class OrderPlacedV1 {
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

  constructor(props?: OrderPlacedV1) {
    if (props) Object.assign(this, props);
  }
}
