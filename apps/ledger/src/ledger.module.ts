import { Module } from '@nestjs/common';
import { EventBusCore, EventBusModule } from '@nest-streams/event-bus';
import { EventStoreModule } from '@nest-streams/event-store';
import { ServiceStoreModule } from '@app/platform';
import { AccountFactsOutbox } from './account-facts.outbox';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { BalancesCheckpoint } from './balances/balances.checkpoint';
import { BalancesProjection } from './balances/balances.projection';
import { BalancesReadModel } from './balances/balances.read-model';
import { BalancesRebuilder } from './balances/balances.rebuilder';

/**
 * The ledger service: event-sourced accounts (`<ns>:es:{Account-<id>}` streams), their
 * integration events on the `accounts` stream, and a balances projection in its own consumer
 * group `ledger-balances`. Group `ledger`, routes under `/accounts`.
 */
@Module({
  imports: [
    EventBusModule.forFeature({ group: 'ledger', source: 'ledger-service' }),
    ServiceStoreModule.forService('ledger'),
    EventStoreModule.forRootAsync({
      inject: [EventBusCore],
      // NOTE: the store's keys carry their own hash tag per stream (one slot per aggregate, also on a cluster).
      useFactory: (core: EventBusCore) => ({ redis: core.redis, namespace: core.keys.name }),
    }),
  ],
  controllers: [AccountsController],
  providers: [
    AccountsService,
    AccountFactsOutbox,
    BalancesReadModel,
    BalancesProjection,
    BalancesRebuilder,
    BalancesCheckpoint,
  ],
})
export class LedgerModule {}
