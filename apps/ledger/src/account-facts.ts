import { AccountOpened, MoneyDeposited, MoneyWithdrawn } from '@app/contracts';
import type { OutgoingEvent } from '@nest-streams/event-bus';
import type { RecordedEvent } from '@nest-streams/event-store';
import { accountDecider, AccountState } from './domain/account.decider';
import type { AccountEvent } from './domain/account.events';

export type AccountFact = AccountOpened | MoneyDeposited | MoneyWithdrawn;

/** The integration event id of an account's event: `<accountId>:<version>`, the same however often it is published. */
export function factId(accountId: string, version: number): string {
  return `${accountId}:${version}`;
}

/**
 * The fat integration events (`@app/contracts` accounts/) of recorded account events, `before`
 * being the state just before the first of them: each carries the owner and the balance after
 * it, the account version and the time the ledger recorded it.
 */
export function toFacts(before: AccountState, events: Array<RecordedEvent<AccountEvent>>): OutgoingEvent[] {
  let state = before;
  return events.map((event) => {
    state = accountDecider.evolve(state, event);
    if (state.status !== 'open')
      throw new Error(`${event.streamName} v${event.version} (${event.type}) comes before the account was opened`);
    const base = {
      accountId: state.accountId,
      owner: state.owner,
      balance: state.balance,
      accountVersion: event.version,
      at: event.time,
    };
    let fact: AccountFact;
    if (event.type === 'AccountOpened') fact = new AccountOpened(base);
    else if (event.type === 'MoneyDeposited') fact = new MoneyDeposited({ ...base, amount: event.data.amount });
    else fact = new MoneyWithdrawn({ ...base, amount: event.data.amount });
    return {
      event: fact,
      options: {
        id: factId(state.accountId, event.version),
        subject: state.accountId,
        time: new Date(event.time),
        correlationId: text(event.metadata.correlationId),
        causationId: text(event.metadata.causationId),
      },
    };
  });
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
