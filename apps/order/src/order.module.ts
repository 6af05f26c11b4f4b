import { Module } from '@nestjs/common';
import { EventBusModule } from '@nest-streams/event-bus';
import { ServiceStoreModule } from '@app/platform';
import { ProductCatalogue } from './catalogue/product-catalogue.service';
import { ORDER_SERVICE, ORDER_SOURCE } from './order.constants';
import { OrderController } from './orders/order.controller';
import { OrderPlacementService } from './orders/order-placement.service';
import { OrderRepository } from './orders/order.repository';
import { OrderSagaHandler } from './saga/order-saga.handler';

/**
 * The order service: `/orders` (place, read, list) and the saga that turns inventory and payment
 * outcomes into `OrderConfirmed` / `OrderCancelled`. Import it beside one `PlatformModule.forRoot()`.
 */
@Module({
  imports: [
    EventBusModule.forFeature({ group: ORDER_SERVICE, source: ORDER_SOURCE }),
    ServiceStoreModule.forService(ORDER_SERVICE),
  ],
  controllers: [OrderController],
  providers: [ProductCatalogue, OrderRepository, OrderPlacementService, OrderSagaHandler],
})
export class OrderModule {}
