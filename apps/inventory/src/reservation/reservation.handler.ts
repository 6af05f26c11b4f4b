import { Injectable, Logger } from '@nestjs/common';
import { InventoryReleased, InventoryReservationFailed, InventoryReserved, OrderCancelled, OrderPlaced } from '@app/contracts';
import { EventContext, EventPublisher, Subscribe } from '@app/event-bus';
import { StockRepository } from '../stock/stock.repository';
import { mergeLines } from './merge-lines';

/**
 * Reserves stock for OrderPlaced (all lines or none) and releases it for OrderCancelled. Each
 * outcome goes out with a deterministic id (`<orderId>:reserved`, `:reservation-failed`,
 * `:released`) and a payload read back from the stored record, so a redelivery or a replay
 * re-announces the very same event and downstream dedupe drops it.
 */
@Injectable()
export class ReservationHandler {
  private readonly logger = new Logger(ReservationHandler.name);

  constructor(
    private readonly stock: StockRepository,
    private readonly publisher: EventPublisher,
  ) {}

  @Subscribe(OrderPlaced)
  async onOrderPlaced(order: OrderPlaced, ctx: EventContext): Promise<void> {
    const { orderId } = order;
    const result = await this.stock.reserve(orderId, mergeLines(order.items));
    const again = result.repeat ? ' (again: the order already had this outcome)' : '';
    const time = new Date(result.at);
    switch (result.state) {
      case 'reserved':
      case 'released':
        await this.publisher.publish(new InventoryReserved({ orderId, lines: result.lines, reservedAt: result.at }), { id: `${orderId}:reserved`, time });
        this.logger.log(`order ${orderId}: reserved ${result.lines.map((l) => `${l.quantity} x ${l.sku}`).join(', ')}${again}`);
        return;
      case 'failed':
        await this.publisher.publish(new InventoryReservationFailed({ orderId, short: result.short, failedAt: result.at }), {
          id: `${orderId}:reservation-failed`,
          time,
        });
        this.logger.log(`order ${orderId}: not reserved, short of ${result.short.map((s) => s.sku).join(', ')}${again}`);
        return;
      case 'void':
        this.logger.warn(`order ${orderId}: ${ctx.envelope.type} ${ctx.envelope.id} arrived after the order was cancelled; nothing reserved`);
        return;
    }
  }

  @Subscribe(OrderCancelled)
  async onOrderCancelled(order: OrderCancelled): Promise<void> {
    const { orderId } = order;
    const result = await this.stock.release(orderId);
    if (result.state !== 'released') return; // NOTE: nothing was reserved (short, or cancelled first): nothing to give back.
    await this.publisher.publish(new InventoryReleased({ orderId, lines: result.lines, releasedAt: result.at }), {
      id: `${orderId}:released`,
      time: new Date(result.at),
    });
    if (!result.repeat) this.logger.log(`order ${orderId}: released ${result.lines.map((l) => `${l.quantity} x ${l.sku}`).join(', ')}`);
  }
}
