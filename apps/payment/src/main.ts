import { Module } from '@nestjs/common';
import { createPlatformApp, PlatformModule, runMain } from '@app/platform';
import { PaymentModule } from './payment.module';

@Module({ imports: [PlatformModule.forRoot({ source: 'payment-service' }), PaymentModule] })
class PaymentAppModule {}

runMain(() =>
  createPlatformApp(PaymentAppModule, {
    title: 'Payment service',
    description: 'Charges placed orders once and refunds cancelled ones, through a pluggable payment gateway',
  }),
);
