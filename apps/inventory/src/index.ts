/** The inventory service as other apps compose it. */
export { InventoryModule } from './inventory.module';
