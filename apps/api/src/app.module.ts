import { Module } from '@nestjs/common';
import { PlatformModule } from '@app/platform';
import { AnalyticsModule } from '../../analytics/src/analytics.module';
import { EmailModule } from '../../email/src/email.module';
import { InventoryModule } from '../../inventory/src/inventory.module';
import { LedgerModule } from '../../ledger/src/ledger.module';
import { LoyaltyModule } from '../../loyalty/src/loyalty.module';
import { OrderModule } from '../../order/src/order.module';
import { PaymentModule } from '../../payment/src/payment.module';
import { EventCatalogueController } from './event-catalogue.controller';
import { EventTypesController } from './event-types.controller';
import { OpsModule } from './ops/ops.module';

/** The platform in one process: every service (each its own consumer group), the API and the operations API (/ops). */
@Module({
  imports: [PlatformModule.forRoot({ source: 'api' }), OrderModule, InventoryModule, PaymentModule, EmailModule, LoyaltyModule, AnalyticsModule, LedgerModule, OpsModule],
  controllers: [EventTypesController, EventCatalogueController],
})
export class AppModule {}
