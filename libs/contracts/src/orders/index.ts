export * from './order-cancelled.event';
export * from './order-confirmed.event';
export * from './order-item';
export * from './order-placed-v1.event';
export * from './order-placed.event';
export * from './order-placed.upcasters';
