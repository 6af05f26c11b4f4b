import { BadRequestException, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CURRENCY, OrderPlaced } from '@app/contracts';
import { EventPublisher, PublishFailedError } from '@app/event-bus';
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
 * Places an order: prices it from the catalogue, stores it as Pending, then publishes the fat
 * OrderPlaced (state first, so every published order exists here when the saga's answers arrive).
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
    const products = await this.unavailableAs503('look up the catalogue', () => this.catalogue.find([...new Set(request.items.map((i) => i.sku))]));
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
    await this.unavailableAs503('record the order', () => this.orders.create(order));

    const eventId = randomUUID();
    const event = new OrderPlaced({
      orderId: order.orderId, userId: order.userId, userEmail: order.email, items: order.items,
      total: order.total, currency: order.currency, placedAt, discountCode: order.discountCode ?? null,
    });
    try {
      await this.publisher.publish(event, { id: eventId, time: new Date(placedAt) });
    } catch (error) {
      if (!(error instanceof PublishFailedError)) throw error;
      this.logger.error(`order ${order.orderId} stored as Pending but OrderPlaced ${eventId} was not published: ${error.message}`);
      throw new ServiceUnavailableException(
        `order ${order.orderId} was recorded as Pending but its OrderPlaced event could not be published (the event bus is unavailable); ` +
          'it stays Pending and will not be fulfilled: place the order again once the service is back',
      );
    }

    const placed: HistoryEntry = { type: 'OrderPlaced', eventId, time: placedAt, source: ORDER_SOURCE };
    await this.orders.recordPlaced(order.orderId, placed).catch((error: unknown) =>
      this.logger.warn(`order ${order.orderId}: OrderPlaced published but not added to its history: ${String(error)}`),
    );
    return toOrderView(order, [placed]);
  }

  private async unavailableAs503<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.logger.error(`could not ${what}: ${String(error)}`);
      throw new ServiceUnavailableException(`could not ${what}, the store is unavailable: nothing was placed, retry later`);
    }
  }
}
