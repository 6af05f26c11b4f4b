import { Module } from '@nestjs/common';
import { createPlatformApp, PlatformModule, runMain } from '@app/platform';
import { LedgerModule } from './ledger.module';

@Module({ imports: [PlatformModule.forRoot({ source: 'ledger-service' }), LedgerModule] })
class LedgerAppModule {}

runMain(() =>
  createPlatformApp(LedgerAppModule, {
    title: 'Ledger service',
    description: 'Event-sourced accounts: open, deposit, withdraw, time travel, history, and a balances projection',
  }),
);
