/** Amounts are decimal currency units with at most 2 decimals; arithmetic goes through whole cents so sums stay exact. */
export function toCents(amount: number): number {
  return Math.round(amount * 100);
}

export function addMoney(a: number, b: number): number {
  return (toCents(a) + toCents(b)) / 100;
}

export function subtractMoney(a: number, b: number): number {
  return (toCents(a) - toCents(b)) / 100;
}

/** A positive amount with at most 2 decimals, below 10^12. */
export function isValidAmount(amount: number): boolean {
  return (
    Number.isFinite(amount) && amount > 0 && amount < 1e12 && Math.abs(amount * 100 - Math.round(amount * 100)) < 1e-6
  );
}
