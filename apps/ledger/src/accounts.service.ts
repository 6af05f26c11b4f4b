import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AsOf, EventMetadata, EventStore, handleCommand, isValidStreamName } from '@nest-streams/event-store';
import { AccountFactsOutbox } from './account-facts.outbox';
import type { AccountCommand } from './domain/account.commands';
import { accountDecider, accountStream, AccountState } from './domain/account.decider';
import type { AccountEvent } from './domain/account.events';
import { AccountNotFoundError } from './domain/errors';

/** Attempts after the first when another request changed the account between load and append. */
export const LEDGER_COMMAND_RETRIES = 5;

/** An account as the API shows it. */
export interface AccountView {
  id: string;
  owner: string;
  balance: number;
  /** The account's version: how many events it has (as of the version or time asked). */
  version: number;
  /** When its last event was recorded. */
  updatedAt: string;
}

export interface AccountHistoryEntry {
  version: number;
  type: AccountEvent['type'];
  data: AccountEvent['data'];
  time: string;
  metadata: EventMetadata;
}

/**
 * The ledger's commands and queries over the event store. Each command loads the account,
 * decides, appends with the loaded version (retrying on a concurrent change unless the client
 * gave its own `expectedVersion`), then publishes the account's integration events.
 */
@Injectable()
export class AccountsService {
  constructor(
    private readonly store: EventStore,
    private readonly outbox: AccountFactsOutbox,
  ) {}

  open(owner: string, metadata: EventMetadata): Promise<AccountView> {
    const accountId = randomUUID();
    return this.execute(accountId, { type: 'OpenAccount', data: { accountId, owner } }, 'no-stream', metadata);
  }

  deposit(
    accountId: string,
    amount: number,
    expectedVersion: number | undefined,
    metadata: EventMetadata,
  ): Promise<AccountView> {
    return this.execute(accountId, { type: 'DepositMoney', data: { accountId, amount } }, expectedVersion, metadata);
  }

  withdraw(
    accountId: string,
    amount: number,
    expectedVersion: number | undefined,
    metadata: EventMetadata,
  ): Promise<AccountView> {
    return this.execute(accountId, { type: 'WithdrawMoney', data: { accountId, amount } }, expectedVersion, metadata);
  }

  /** The account now, or as of a version or a time. */
  async get(accountId: string, asOf: AsOf = {}): Promise<AccountView> {
    const loaded = await this.store.load(this.stream(accountId), accountDecider, asOf);
    if (asOf.asOfVersion !== undefined && loaded.version < asOf.asOfVersion && loaded.version > 0) {
      throw new AccountNotFoundError(
        accountId,
        `it has ${loaded.version} events, so version ${asOf.asOfVersion} does not exist (yet)`,
      );
    }
    if (loaded.state.status !== 'open') {
      const detail =
        asOf.asOfTime !== undefined
          ? `it was not open yet at ${String(asOf.asOfTime)}`
          : asOf.asOfVersion === 0
            ? 'version 0 is before its opening'
            : undefined;
      throw new AccountNotFoundError(accountId, detail);
    }
    return view(loaded.state, loaded.version, loaded.time);
  }

  /** Every event of the account, oldest first. */
  async history(accountId: string): Promise<AccountHistoryEntry[]> {
    const events = await this.store.readForward<AccountEvent>(this.stream(accountId));
    if (events.length === 0) throw new AccountNotFoundError(accountId);
    return events.map((e) => ({ version: e.version, type: e.type, data: e.data, time: e.time, metadata: e.metadata }));
  }

  private async execute(
    accountId: string,
    command: AccountCommand,
    expectedVersion: number | 'no-stream' | undefined,
    metadata: EventMetadata,
  ): Promise<AccountView> {
    const result = await handleCommand(this.store, this.stream(accountId), accountDecider, command, {
      expectedVersion,
      retries: LEDGER_COMMAND_RETRIES,
      metadata,
    });
    await this.outbox.afterCommand(accountId, result);
    return view(result.state, result.version, result.events[result.events.length - 1]?.time);
  }

  /** The account's stream; an id that cannot name one is an account that does not exist. */
  private stream(accountId: string): string {
    const name = `Account-${accountId}`;
    if (!isValidStreamName(name)) throw new AccountNotFoundError(accountId);
    return accountStream(accountId);
  }
}

function view(state: AccountState, version: number, time: string | undefined): AccountView {
  if (state.status !== 'open') throw new Error('an account view needs an open account');
  return { id: state.accountId, owner: state.owner, balance: state.balance, version, updatedAt: time ?? '' };
}
