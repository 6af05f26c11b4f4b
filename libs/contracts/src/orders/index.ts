export * from './order-cancelled.event';
export * from './order-confirmed.event';
export * from './order-item';
export * from './order-placed.event';
