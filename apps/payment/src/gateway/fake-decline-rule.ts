import { createHash } from 'node:crypto';
import type { ChargeRequest, ChargeResult } from './payment-gateway';

/** The fake gateway declines charges above this amount. */
export const FAKE_GATEWAY_AMOUNT_LIMIT = 1000;

/** The fake gateway declines every user whose id starts with this. */
export const FAKE_GATEWAY_DECLINED_USER_PREFIX = 'declined';

/**
 * The fake gateway's decision, a pure function of the request:
 * - amount above 1000 → declined, reason `amount-over-limit` (checked first);
 * - userId starting with `declined` → declined, reason `card-declined`;
 * - otherwise approved with paymentId `pay_<first 16 hex of sha256(idempotencyKey)>`.
 */
export function decideFakeCharge(request: ChargeRequest): ChargeResult {
  if (request.amount > FAKE_GATEWAY_AMOUNT_LIMIT) return { ok: false, reason: 'amount-over-limit' };
  if (request.userId.startsWith(FAKE_GATEWAY_DECLINED_USER_PREFIX)) return { ok: false, reason: 'card-declined' };
  return { ok: true, paymentId: fakePaymentId(request.idempotencyKey) };
}

/** `pay_` and the first 16 hex digits of the key's SHA-256. */
export function fakePaymentId(idempotencyKey: string): string {
  return `pay_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)}`;
}
