export * from './inventory-released.event';
export * from './inventory-reservation-failed.event';
export * from './inventory-reserved.event';
export * from './reserved-line';
