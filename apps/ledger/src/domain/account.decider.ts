import { Decider, RecordedEvent, toStreamName } from '@nest-streams/event-store';
import type { AccountCommand } from './account.commands';
import type { AccountEvent } from './account.events';
import { AccountAlreadyOpenedError, AccountNotFoundError, InsufficientFundsError, InvalidAmountError } from './errors';
import { addMoney, isValidAmount, subtractMoney, toCents } from './money';

export const ACCOUNT = 'Account';

export interface OpenAccount {
  status: 'open';
  accountId: string;
  owner: string;
  balance: number;
}

export type AccountState = { status: 'none' } | OpenAccount;

/** The stream of one account: `Account-<id>`. */
export function accountStream(accountId: string): string {
  return toStreamName(ACCOUNT, accountId);
}

function decide(command: AccountCommand, state: AccountState): AccountEvent {
  const { accountId } = command.data;
  if (command.type === 'OpenAccount') {
    if (state.status === 'open') throw new AccountAlreadyOpenedError(accountId);
    return { type: 'AccountOpened', data: { accountId, owner: command.data.owner } };
  }
  if (state.status !== 'open') throw new AccountNotFoundError(accountId);
  const { amount } = command.data;
  if (!isValidAmount(amount)) throw new InvalidAmountError(amount);
  if (command.type === 'DepositMoney') return { type: 'MoneyDeposited', data: { amount } };
  if (toCents(amount) > toCents(state.balance)) throw new InsufficientFundsError(accountId, state.balance, amount);
  return { type: 'MoneyWithdrawn', data: { amount } };
}

function evolve(state: AccountState, event: RecordedEvent<AccountEvent>): AccountState {
  switch (event.type) {
    case 'AccountOpened':
      return { status: 'open', accountId: event.data.accountId, owner: event.data.owner, balance: 0 };
    case 'MoneyDeposited':
      return state.status === 'open' ? { ...state, balance: addMoney(state.balance, event.data.amount) } : state;
    case 'MoneyWithdrawn':
      return state.status === 'open' ? { ...state, balance: subtractMoney(state.balance, event.data.amount) } : state;
    default:
      return state;
  }
}

/**
 * A ledger account as a decider: open it, deposit, withdraw (never below 0). Snapshotted every
 * 50 events; bump `schemaVersion` when `AccountState` or `evolve` changes.
 */
export const accountDecider: Decider<AccountState, AccountCommand, AccountEvent> = {
  initialState: () => ({ status: 'none' }),
  decide,
  evolve,
  snapshot: { every: 50, schemaVersion: 1 },
};
