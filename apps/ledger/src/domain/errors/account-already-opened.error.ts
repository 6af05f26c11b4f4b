/** Opening an account whose id is taken. */
export class AccountAlreadyOpenedError extends Error {
  constructor(readonly accountId: string) {
    super(`account ${accountId} is already open: open another one without giving an id`);
    this.name = 'AccountAlreadyOpenedError';
  }
}
