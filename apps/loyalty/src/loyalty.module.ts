import { Module } from '@nestjs/common';
import { EventBusModule } from '@nest-streams/event-bus';
import { ServiceStoreModule } from '@app/platform';
import { LoyaltyController } from './loyalty.controller';
import { LoyaltyLedgerRepository } from './loyalty-ledger.repository';
import { LoyaltyService } from './loyalty.service';

/** The loyalty service: points for payments, taken back on refunds; consumer group `loyalty`, routes under `/loyalty`. */
@Module({
  imports: [
    EventBusModule.forFeature({ group: 'loyalty', source: 'loyalty-service' }),
    ServiceStoreModule.forService('loyalty'),
  ],
  controllers: [LoyaltyController],
  providers: [LoyaltyService, LoyaltyLedgerRepository],
})
export class LoyaltyModule {}
