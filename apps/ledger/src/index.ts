/** The ledger service as other apps compose it. */
export { LedgerModule } from './ledger.module';
