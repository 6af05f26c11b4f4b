/** A withdrawal larger than the balance; nothing was withdrawn. */
export class InsufficientFundsError extends Error {
  constructor(
    readonly accountId: string,
    readonly balance: number,
    readonly requested: number,
  ) {
    super(
      `cannot withdraw ${requested} from account ${accountId}: its balance is ${balance}; withdraw at most ${balance} or deposit first`,
    );
    this.name = 'InsufficientFundsError';
  }
}
