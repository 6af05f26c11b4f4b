import { DynamicModule, Module, Type } from '@nestjs/common';
import { EventBusModule } from '@nest-streams/event-bus';
import { ServiceStoreModule } from '@app/platform';
import { FakePaymentGateway } from './gateway/fake-payment.gateway';
import { PAYMENT_GATEWAY, PaymentGateway } from './gateway/payment-gateway';
import { PaymentController } from './payment.controller';
import { PaymentRecordRepository } from './payment-record.repository';
import { PaymentService } from './payment.service';

/**
 * The payment service: charges placed orders and refunds cancelled ones through the
 * `PAYMENT_GATEWAY` (the deterministic `FakePaymentGateway` unless `withGateway` says otherwise);
 * consumer group `payment`, routes under `/payments`.
 */
@Module({
  imports: [
    EventBusModule.forFeature({ group: 'payment', source: 'payment-service' }),
    ServiceStoreModule.forService('payment'),
  ],
  controllers: [PaymentController],
  providers: [
    PaymentService,
    PaymentRecordRepository,
    FakePaymentGateway,
    { provide: PAYMENT_GATEWAY, useExisting: FakePaymentGateway },
  ],
})
export class PaymentModule {
  /** The payment service with another gateway (a real provider's adapter, a test double). */
  static withGateway(gateway: Type<PaymentGateway>): DynamicModule {
    return { module: PaymentModule, providers: [gateway, { provide: PAYMENT_GATEWAY, useExisting: gateway }] };
  }
}
