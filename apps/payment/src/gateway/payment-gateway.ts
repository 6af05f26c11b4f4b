/** What the payment service asks a gateway to charge. */
export interface ChargeRequest {
  /** The gateway charges once per key: a repeated call returns the first call's result. */
  idempotencyKey: string;
  amount: number;
  currency: string;
  userId: string;
}

/** A charge either went through (with the gateway's payment id) or was declined (with a reason). */
export type ChargeResult = { ok: true; paymentId: string } | { ok: false; reason: string };

/** What the payment service asks a gateway to give back. */
export interface RefundRequest {
  /** The gateway refunds once per key. */
  idempotencyKey: string;
  paymentId: string;
  amount: number;
}

/**
 * A payment provider. Both calls must be idempotent by `idempotencyKey`, as real gateways are:
 * the service may call again after a crash or a timeout without knowing whether the first
 * call went through. A call that throws is retried by the bus with the same key.
 */
export interface PaymentGateway {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  refund(request: RefundRequest): Promise<void>;
}

/** Injection token of the `PaymentGateway` the payment service uses (default: `FakePaymentGateway`). */
export const PAYMENT_GATEWAY = Symbol('PAYMENT_GATEWAY');
