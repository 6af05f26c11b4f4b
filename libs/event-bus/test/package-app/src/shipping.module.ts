import { Injectable, Module } from '@nestjs/common';
import { EventBusModule, Subscribe, type EventContext } from '@nest-streams/event-bus';
import { OrderPlaced } from './order-placed.event';

/** The handlers of the consumer group `shipping`: each OrderPlaced reaches the group at least once, deduplicated. */
@Injectable()
export class ShippingHandlers {
  readonly received: Array<{ orderId: string; quantity: number; group: string }> = [];

  @Subscribe(OrderPlaced)
  async onOrderPlaced(order: OrderPlaced, context: EventContext): Promise<void> {
    this.received.push({ orderId: order.orderId, quantity: order.quantity, group: context.group });
  }
}

@Module({
  imports: [EventBusModule.forFeature({ group: 'shipping' })],
  providers: [ShippingHandlers],
})
export class ShippingModule {}
