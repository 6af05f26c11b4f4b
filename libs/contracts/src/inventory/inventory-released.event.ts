import { EventContract } from '@nest-streams/event-bus';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsISO8601, IsString, ValidateNested } from 'class-validator';
import { ReservedLine } from './reserved-line';

/** What an order had reserved is back in stock (the order was cancelled). */
@EventContract({
  type: 'InventoryReleased',
  version: 1,
  stream: 'inventory',
  subjectField: 'orderId',
  producedBy: ['inventory-service'],
})
export class InventoryReleased {
  @IsString()
  orderId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ReservedLine)
  lines!: ReservedLine[];

  @IsISO8601()
  releasedAt!: string;

  constructor(props?: InventoryReleased) {
    if (props) Object.assign(this, props);
  }
}
