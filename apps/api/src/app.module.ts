import { Module } from '@nestjs/common';
import { PlatformModule } from '@app/platform';
import { AnalyticsModule } from '../../analytics/src/analytics.module';
import { EmailModule } from '../../email/src/email.module';
import { InventoryModule } from '../../inventory/src/inventory.module';
import { LoyaltyModule } from '../../loyalty/src/loyalty.module';
import { OrderModule } from '../../order/src/order.module';
import { PaymentModule } from '../../payment/src/payment.module';
import { EventTypesController } from './event-types.controller';

/** The platform in one process: every service (each its own consumer group) and the API. */
@Module({
  imports: [PlatformModule.forRoot({ source: 'api' }), OrderModule, InventoryModule, PaymentModule, EmailModule, LoyaltyModule, AnalyticsModule],
  controllers: [EventTypesController],
})
export class AppModule {}
