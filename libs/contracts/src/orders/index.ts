export * from './order-item';
export * from './order-placed.event';
