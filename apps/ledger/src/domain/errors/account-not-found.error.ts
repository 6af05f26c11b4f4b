/** No account has this id (or it did not exist yet at the version or time asked). */
export class AccountNotFoundError extends Error {
  constructor(
    readonly accountId: string,
    detail = 'open one with POST /accounts',
  ) {
    super(`account ${accountId} does not exist: ${detail}`);
    this.name = 'AccountNotFoundError';
  }
}
