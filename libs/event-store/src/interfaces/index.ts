export * from './append.interface';
export * from './decider.interface';
export * from './event.interface';
export * from './event-store-options.interface';
export * from './loaded-state.interface';
export * from './read.interface';
export * from './snapshot.interface';
