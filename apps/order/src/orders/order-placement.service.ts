import { BadRequestException, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CURRENCY, OrderPlaced } from '@app/contracts';
import { EventPublisher, PublishFailedError } from '@nest-streams/event-bus';
import { ProductCatalogue } from '../catalogue/product-catalogue.service';
import type { OrderViewDto } from '../dto/order-view.dto';
import type { PlaceOrderDto } from '../dto/place-order.dto';
import { ORDER_SOURCE } from '../order.constants';
import { newOrderId } from './order-id';
import type { HistoryEntry, OrderRecord } from './order-record';
import { OrderRepository } from './order.repository';
import { toOrderView } from './order-view.mapper';
import { priceLines } from './price-lines';

/**
 * Places an order: prices it from the catalogue, then stores it as Pending and publishes the fat
 * OrderPlaced in one atomic write (the publisher's outbox): an order is never stored without the
 * event that gets it fulfilled, and no event announces an order that was not stored.
 */
@Injectable()
export class OrderPlacementService {
  private readonly logger = new Logger(OrderPlacementService.name);

  constructor(
    private readonly catalogue: ProductCatalogue,
    private readonly orders: OrderRepository,
    private readonly publisher: EventPublisher,
  ) {}

  async place(request: PlaceOrderDto): Promise<OrderViewDto> {
    const products = await this.unavailableAs503('look up the catalogue', () =>
      this.catalogue.find([...new Set(request.items.map((i) => i.sku))]),
    );
    const priced = priceLines(request.items, products);
    if (!priced.ok) throw new BadRequestException(priced.errors);

    const placedAt = new Date().toISOString();
    const order: OrderRecord = {
      orderId: newOrderId(),
      userId: request.userId,
      email: request.email,
      items: priced.items,
      total: priced.total,
      currency: CURRENCY,
      placedAt,
      status: 'Pending',
      discountCode: request.discountCode,
    };
    const eventId = randomUUID();
    const placed: HistoryEntry = { type: 'OrderPlaced', eventId, time: placedAt, source: ORDER_SOURCE };
    const event = new OrderPlaced({
      orderId: order.orderId,
      userId: order.userId,
      userEmail: order.email,
      items: order.items,
      total: order.total,
      currency: order.currency,
      placedAt,
      discountCode: order.discountCode ?? null,
    });
    try {
      // NOTE: the transactional outbox: the order and its OrderPlaced land in one MULTI, or neither does.
      await this.publisher.publish(event, {
        id: eventId,
        time: new Date(placedAt),
        with: (tx) => this.orders.create(tx, order, placed),
      });
    } catch (error) {
      if (!(error instanceof PublishFailedError)) throw error;
      this.logger.error(`order ${order.orderId} was not placed: ${error.message}`);
      throw new ServiceUnavailableException(
        `could not place order ${order.orderId}: the store is unavailable (${error.cause instanceof Error ? error.cause.message : String(error.cause)}). ` +
          `An order is stored together with its OrderPlaced event or not at all: GET /orders/${order.orderId} says whether it was (when Redis took the write late); otherwise place it again`,
      );
    }
    return toOrderView(order, [placed]);
  }

  private async unavailableAs503<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.logger.error(`could not ${what}: ${String(error)}`);
      throw new ServiceUnavailableException(
        `could not ${what}, the store is unavailable: nothing was placed, retry later`,
      );
    }
  }
}
