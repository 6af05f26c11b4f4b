import { Module } from '@nestjs/common';
import { EventBusModule } from '@nest-streams/event-bus';
import { ServiceStoreModule } from '@app/platform';
import { InventoryController } from './inventory.controller';
import { INVENTORY_SERVICE, INVENTORY_SOURCE } from './inventory.constants';
import { ReservationHandler } from './reservation/reservation.handler';
import { StockRepository } from './stock/stock.repository';

/**
 * The inventory service: `/inventory` (stock levels) and the handlers that reserve stock for
 * OrderPlaced and release it for OrderCancelled. Import it beside one `PlatformModule.forRoot()`.
 */
@Module({
  imports: [
    EventBusModule.forFeature({ group: INVENTORY_SERVICE, source: INVENTORY_SOURCE }),
    ServiceStoreModule.forService(INVENTORY_SERVICE),
  ],
  controllers: [InventoryController],
  providers: [StockRepository, ReservationHandler],
})
export class InventoryModule {}
