/** Consumer group and store name of the inventory service. */
export const INVENTORY_SERVICE = 'inventory';

/** CloudEvents `source` of the events the inventory service publishes. */
export const INVENTORY_SOURCE = 'inventory-service';
