import type { Event } from '@nest-streams/event-store';

/**
 * What the ledger records in an account's stream (`<ns>:es:{Account-<id>}`): thin domain events,
 * private to the ledger. Other services learn about accounts from the fat integration events in
 * `@app/contracts` (accounts/), published after each append.
 */
export type AccountOpenedEvent = Event<'AccountOpened', { accountId: string; owner: string }>;
export type MoneyDepositedEvent = Event<'MoneyDeposited', { amount: number }>;
export type MoneyWithdrawnEvent = Event<'MoneyWithdrawn', { amount: number }>;

export type AccountEvent = AccountOpenedEvent | MoneyDepositedEvent | MoneyWithdrawnEvent;
