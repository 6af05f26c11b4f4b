import { decideFakeCharge, fakePaymentId } from './fake-decline-rule';

describe('decideFakeCharge', () => {
  const base = { idempotencyKey: 'ORD-1', amount: 50, currency: 'EUR', userId: 'u-alice' };

  it('approves with a payment id derived from the idempotency key', () => {
    expect(decideFakeCharge(base)).toEqual({ ok: true, paymentId: fakePaymentId('ORD-1') });
    expect(fakePaymentId('ORD-1')).toMatch(/^pay_[0-9a-f]{16}$/);
    expect(fakePaymentId('ORD-1')).not.toBe(fakePaymentId('ORD-2'));
  });

  it('approves exactly 1000 and declines anything above it', () => {
    expect(decideFakeCharge({ ...base, amount: 1000 }).ok).toBe(true);
    expect(decideFakeCharge({ ...base, amount: 1000.01 })).toEqual({ ok: false, reason: 'amount-over-limit' });
  });

  it('declines users whose id starts with "declined", and only those', () => {
    expect(decideFakeCharge({ ...base, userId: 'declined-bob' })).toEqual({ ok: false, reason: 'card-declined' });
    expect(decideFakeCharge({ ...base, userId: 'bob-declined' }).ok).toBe(true);
  });

  it('names the amount limit first when both rules apply', () => {
    expect(decideFakeCharge({ ...base, amount: 5000, userId: 'declined-bob' })).toEqual({
      ok: false,
      reason: 'amount-over-limit',
    });
  });
});
