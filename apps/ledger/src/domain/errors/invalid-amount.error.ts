/** An amount that is not positive, has more than 2 decimals, or is too large. */
export class InvalidAmountError extends Error {
  constructor(readonly amount: number) {
    super(`amount ${amount} is not allowed: use a positive number with at most 2 decimals, below 1000000000000`);
    this.name = 'InvalidAmountError';
  }
}
