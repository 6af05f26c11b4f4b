/**
 * Where an order's payment stands. `pending` and `refunding` are intents recorded before the
 * gateway call; they become `charged`/`declined` and `refunded` once the gateway answered.
 */
export const PAYMENT_STATUSES = ['pending', 'charged', 'declined', 'refunding', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The payment service's record of one order (a Redis hash, `payment:<orderId>`). */
export interface PaymentRecord {
  orderId: string;
  userId: string;
  userEmail: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  paymentId?: string;
  /** Why the gateway declined. */
  reason?: string;
  chargedAt?: string;
  failedAt?: string;
  refundedAt?: string;
  /** The charge's outcome (PaymentSucceeded / PaymentFailed) has been published. */
  chargeAnnounced: boolean;
  /** PaymentRefunded has been published. */
  refundAnnounced: boolean;
}
