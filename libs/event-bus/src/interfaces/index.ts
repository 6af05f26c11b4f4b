export * from './event-bus-options.interface';
export * from './event-context.interface';
export * from './event-contract.interface';
export * from './event-envelope.interface';
export * from './subscribe-options.interface';
export * from './publish.interface';
