export type AccountCommand =
  | { type: 'OpenAccount'; data: { accountId: string; owner: string } }
  | { type: 'DepositMoney'; data: { accountId: string; amount: number } }
  | { type: 'WithdrawMoney'; data: { accountId: string; amount: number } };
