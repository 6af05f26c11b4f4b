import type { AccountFact } from '../account-facts';

/** One account in the balances read model. */
export interface BalanceRow {
  accountId: string;
  owner: string;
  balance: number;
  /** The account version this row reflects. */
  accountVersion: number;
  /** When the ledger recorded that version. */
  updatedAt: string;
}

/** The row an account fact leaves: facts are fat, so the newest one says it all. */
export function toBalanceRow(fact: AccountFact): BalanceRow {
  return {
    accountId: fact.accountId,
    owner: fact.owner,
    balance: fact.balance,
    accountVersion: fact.accountVersion,
    updatedAt: fact.at,
  };
}
