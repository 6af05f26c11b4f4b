export * from './accounts';
export * from './inventory';
export * from './orders';
export * from './payments';
export * from './catalogue';
