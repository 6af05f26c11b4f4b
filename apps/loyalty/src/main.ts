import { Module } from '@nestjs/common';
import { createPlatformApp, PlatformModule, runMain } from '@app/platform';
import { LoyaltyModule } from './loyalty.module';

@Module({ imports: [PlatformModule.forRoot({ source: 'loyalty-service' }), LoyaltyModule] })
class LoyaltyAppModule {}

runMain(() =>
  createPlatformApp(LoyaltyAppModule, {
    title: 'Loyalty service',
    description: 'Awards loyalty points for payments (1 per whole currency unit) and takes them back on refunds',
  }),
);
