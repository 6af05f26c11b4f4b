import type { RecordedEvent } from '@nest-streams/event-store';
import type { AccountCommand } from './account.commands';
import { accountDecider, AccountState } from './account.decider';
import type { AccountEvent } from './account.events';
import { AccountAlreadyOpenedError, AccountNotFoundError, InsufficientFundsError, InvalidAmountError } from './errors';

const { decide, evolve, initialState } = accountDecider;

/** Runs commands through decide/evolve as handleCommand does, without a store. */
function run(commands: AccountCommand[]): AccountState {
  let state = initialState();
  let version = 0;
  for (const command of commands) {
    const decided = decide(command, state);
    for (const event of Array.isArray(decided) ? decided : [decided]) {
      version++;
      state = evolve(state, {
        ...event,
        version,
        streamName: 'Account-a',
        time: '',
        entryId: `0-${version}`,
        metadata: {},
      } as RecordedEvent<AccountEvent>);
    }
  }
  return state;
}

const open: AccountCommand = { type: 'OpenAccount', data: { accountId: 'a', owner: 'Ada' } };
const deposit = (amount: number): AccountCommand => ({ type: 'DepositMoney', data: { accountId: 'a', amount } });
const withdraw = (amount: number): AccountCommand => ({ type: 'WithdrawMoney', data: { accountId: 'a', amount } });

describe('accountDecider', () => {
  it('0, +500, -150, +100, -250 leaves 200', () => {
    expect(run([open, deposit(500), withdraw(150), deposit(100), withdraw(250)])).toEqual({
      status: 'open',
      accountId: 'a',
      owner: 'Ada',
      balance: 200,
    });
  });

  it('keeps cents exact', () => {
    expect(run([open, deposit(0.1), deposit(0.2), withdraw(0.3)])).toMatchObject({ balance: 0 });
    expect(run([open, deposit(19.99), deposit(0.01)])).toMatchObject({ balance: 20 });
  });

  it('refuses to overdraw, naming the balance and the amount', () => {
    const state = run([open, deposit(100)]);
    expect(() => decide(withdraw(100.01), state)).toThrow(InsufficientFundsError);
    expect(() => decide(withdraw(100.01), state)).toThrow(/balance is 100; withdraw at most 100/);
    expect(decide(withdraw(100), state)).toEqual({ type: 'MoneyWithdrawn', data: { amount: 100 } });
  });

  it('refuses commands on an account that was never opened, and opening one twice', () => {
    expect(() => decide(deposit(1), initialState())).toThrow(AccountNotFoundError);
    expect(() => decide(withdraw(1), initialState())).toThrow(AccountNotFoundError);
    expect(() => decide(open, run([open]))).toThrow(AccountAlreadyOpenedError);
  });

  it.each([0, -5, 0.001, Number.NaN, 1e12])('refuses the amount %p', (amount) => {
    expect(() => decide(deposit(amount), run([open]))).toThrow(InvalidAmountError);
  });
});
