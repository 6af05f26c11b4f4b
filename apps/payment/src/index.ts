/**
 * The payment service as other apps compose it: its module, the gateway port it charges through
 * (`PaymentModule.withGateway` takes another adapter) and the default fake gateway.
 */
export { PaymentModule } from './payment.module';
export { PAYMENT_GATEWAY } from './gateway/payment-gateway';
export type { ChargeRequest, ChargeResult, PaymentGateway, RefundRequest } from './gateway/payment-gateway';
export { FakePaymentGateway } from './gateway/fake-payment.gateway';
export type { FakeGatewayCounts } from './gateway/fake-payment.gateway';
