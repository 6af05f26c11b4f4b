import { EventContract } from '@nest-streams/event-bus';
import { IsInt, IsString, Min } from 'class-validator';

/** An event contract: type, stream and version, with class-validator decorators as its schema. */
@EventContract({ type: 'OrderPlaced', stream: 'orders', subjectField: 'orderId' })
export class OrderPlaced {
  @IsString()
  orderId!: string;

  @IsInt()
  @Min(1)
  quantity!: number;

  constructor(props: OrderPlaced) {
    Object.assign(this, props);
  }
}
