export * from './payment-failed.event';
export * from './payment-refunded.event';
export * from './payment-succeeded.event';
