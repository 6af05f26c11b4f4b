/** The loyalty service as other apps compose it. */
export { LoyaltyModule } from './loyalty.module';
