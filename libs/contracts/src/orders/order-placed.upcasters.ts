import { EventUpcaster, Upcaster } from '@nest-streams/event-bus';
import { OrderPlacedV1 } from './order-placed-v1.event';
import { OrderPlaced } from './order-placed.event';

/** v1 predates discount codes: a v1 order had none, which v2 says with `null`. */
@Upcaster(OrderPlacedV1, OrderPlaced)
export class OrderPlacedV1ToV2 implements EventUpcaster<OrderPlacedV1, OrderPlaced> {
  upcast(v1: OrderPlacedV1): OrderPlaced {
    return { ...v1, discountCode: null };
  }
}
