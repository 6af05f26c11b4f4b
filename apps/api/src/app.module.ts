import { Module } from '@nestjs/common';
import { PlatformModule } from '@app/platform';
import { AnalyticsModule } from '@app/analytics';
import { EmailModule } from '@app/email';
import { InventoryModule } from '@app/inventory';
import { LedgerModule } from '@app/ledger';
import { LoyaltyModule } from '@app/loyalty';
import { OrderModule } from '@app/order';
import { PaymentModule } from '@app/payment';
import { ConsoleModule } from './console/console.module';
import { EventCatalogueController } from './event-catalogue.controller';
import { EventTypesController } from './event-types.controller';
import { OpsModule } from './ops/ops.module';

/** The platform in one process: every service (each its own consumer group), the API, the operations API (/ops) and its console (/console). */
@Module({
  imports: [
    PlatformModule.forRoot({ source: 'api' }),
    OrderModule,
    InventoryModule,
    PaymentModule,
    EmailModule,
    LoyaltyModule,
    AnalyticsModule,
    LedgerModule,
    OpsModule,
    ConsoleModule,
  ],
  controllers: [EventTypesController, EventCatalogueController],
})
export class AppModule {}
