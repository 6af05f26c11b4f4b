import { EventContract } from '@nest-streams/event-bus';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsISO8601, IsString, ValidateNested } from 'class-validator';
import { ReservedLine } from './reserved-line';

/** Every line of an order is set aside (all or nothing). */
@EventContract({
  type: 'InventoryReserved',
  version: 1,
  stream: 'inventory',
  subjectField: 'orderId',
  producedBy: ['inventory-service'],
})
export class InventoryReserved {
  @IsString()
  orderId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ReservedLine)
  lines!: ReservedLine[];

  @IsISO8601()
  reservedAt!: string;

  constructor(props?: InventoryReserved) {
    if (props) Object.assign(this, props);
  }
}
