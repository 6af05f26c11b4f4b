import { Module } from '@nestjs/common';
import { EventBusModule } from '@nest-streams/event-bus';
import { LedgerModule } from './ledger.module';
import { ShippingModule } from './shipping.module';

@Module({
  imports: [
    EventBusModule.forRoot({
      redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      namespace: process.env.EVENT_BUS_NAMESPACE ?? 'app',
      isGlobal: true,
    }),
    ShippingModule,
    LedgerModule,
  ],
})
export class AppModule {}
