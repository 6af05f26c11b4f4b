export * from './account-opened.event';
export * from './money-deposited.event';
export * from './money-withdrawn.event';
