import { Injectable } from '@nestjs/common';
import { AccountOpened, MoneyDeposited, MoneyWithdrawn } from '@app/contracts';
import { ConsumerGroup, EventContext, Subscribe } from '@nest-streams/event-bus';
import type { AccountFact } from '../account-facts';
import { toBalanceRow } from './balance-row';
import { BalancesReadModel } from './balances.read-model';

/** The consumer group of the balances projection; its position in the `accounts` stream is the projection's checkpoint. */
export const BALANCES_GROUP = 'ledger-balances';

/**
 * Keeps the balances read model from the ledger's own integration events, in its own consumer
 * group. Exactly once: the row update, the dedupe marker and the acknowledgement are one
 * transaction (`ctx.commit`), and the row moves only forward by account version.
 */
@Injectable()
@ConsumerGroup(BALANCES_GROUP)
export class BalancesProjection {
  constructor(private readonly balances: BalancesReadModel) {}

  @Subscribe(AccountOpened)
  @Subscribe(MoneyDeposited)
  @Subscribe(MoneyWithdrawn)
  async onAccountFact(fact: AccountFact, ctx: EventContext): Promise<void> {
    await ctx.commit((tx) => this.balances.apply(tx, toBalanceRow(fact)));
  }
}
