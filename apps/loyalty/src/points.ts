/**
 * Loyalty points earned by a payment: one point per whole currency unit, `floor(amount)`
 * (37.40 EUR → 37 points, 0.99 → 0). The amount is rounded to cents first, so a float total
 * such as 29.999999999999996 earns 30.
 */
export function pointsFor(amount: number): number {
  return Math.floor(Math.round(amount * 100) / 100);
}
