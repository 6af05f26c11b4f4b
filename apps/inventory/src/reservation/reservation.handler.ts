import { Injectable, Logger } from '@nestjs/common';
import {
  InventoryReleased,
  InventoryReservationFailed,
  InventoryReserved,
  OrderCancelled,
  OrderPlaced,
} from '@app/contracts';
import { EventContext, Subscribe } from '@nest-streams/event-bus';
import { AnnouncedFact, StockRepository } from '../stock/stock.repository';
import { mergeLines } from './merge-lines';

/**
 * Reserves stock for OrderPlaced (all lines or none) and releases it for OrderCancelled. Each
 * outcome goes out once, through ctx.commit, with a deterministic id (`<orderId>:reserved`,
 * `:reservation-failed`, `:released`) and a payload read back from the stored record.
 */
@Injectable()
export class ReservationHandler {
  private readonly logger = new Logger(ReservationHandler.name);

  constructor(private readonly stock: StockRepository) {}

  @Subscribe(OrderPlaced)
  async onOrderPlaced(order: OrderPlaced, ctx: EventContext): Promise<void> {
    const { orderId } = order;
    const result = await this.stock.reserve(orderId, mergeLines(order.items));
    const again = result.repeat ? ' (again: the order already had this outcome)' : '';
    const time = new Date(result.at);
    switch (result.state) {
      case 'reserved':
      case 'released':
        await this.announce(
          ctx,
          orderId,
          'reserved',
          result.repeat,
          new InventoryReserved({ orderId, lines: result.lines, reservedAt: result.at }),
          time,
        );
        this.logger.log(
          `order ${orderId}: reserved ${result.lines.map((l) => `${l.quantity} x ${l.sku}`).join(', ')}${again}`,
        );
        return;
      case 'failed':
        await this.announce(
          ctx,
          orderId,
          'reservation-failed',
          result.repeat,
          new InventoryReservationFailed({ orderId, short: result.short, failedAt: result.at }),
          time,
        );
        this.logger.log(
          `order ${orderId}: not reserved, short of ${result.short.map((s) => s.sku).join(', ')}${again}`,
        );
        return;
      case 'void':
        this.logger.warn(
          `order ${orderId}: ${ctx.envelope.type} ${ctx.envelope.id} arrived after the order was cancelled; nothing reserved`,
        );
        return;
    }
  }

  @Subscribe(OrderCancelled)
  async onOrderCancelled(order: OrderCancelled, ctx: EventContext): Promise<void> {
    const { orderId } = order;
    const result = await this.stock.release(orderId);
    if (result.state !== 'released') return; // NOTE: nothing was reserved (short, or cancelled first): nothing to give back.
    await this.announce(
      ctx,
      orderId,
      'released',
      result.repeat,
      new InventoryReleased({ orderId, lines: result.lines, releasedAt: result.at }),
      new Date(result.at),
    );
    if (!result.repeat)
      this.logger.log(`order ${orderId}: released ${result.lines.map((l) => `${l.quantity} x ${l.sku}`).join(', ')}`);
  }

  /**
   * Publishes `fact` with its "announced" mark and the acknowledgement in one MULTI (ctx.commit),
   * unless a repeat finds it announced already: the stock change happened once (the scripts) and
   * its fact goes out once, whatever crashed in between.
   */
  private async announce(
    ctx: EventContext,
    orderId: string,
    fact: AnnouncedFact,
    repeat: boolean,
    event: object,
    time: Date,
  ): Promise<void> {
    if (repeat && (await this.stock.announced(orderId, fact))) return;
    await ctx.commit((tx) => this.stock.markAnnounced(tx, orderId, fact), {
      publish: [{ event, options: { id: `${orderId}:${fact}`, time } }],
    });
  }
}
