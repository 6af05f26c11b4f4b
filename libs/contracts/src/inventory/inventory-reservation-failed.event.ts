import { EventContract } from '@nest-streams/event-bus';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsISO8601, IsString, ValidateNested } from 'class-validator';
import { ShortLine } from './reserved-line';

/** At least one line could not be reserved; nothing was. */
@EventContract({
  type: 'InventoryReservationFailed',
  version: 1,
  stream: 'inventory',
  subjectField: 'orderId',
  producedBy: ['inventory-service'],
})
export class InventoryReservationFailed {
  @IsString()
  orderId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ShortLine)
  short!: ShortLine[];

  @IsISO8601()
  failedAt!: string;

  constructor(props?: InventoryReservationFailed) {
    if (props) Object.assign(this, props);
  }
}
