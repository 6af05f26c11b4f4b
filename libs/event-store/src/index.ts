export * from './errors';
export * from './interfaces';
export { EventStore } from './event-store';
export { EventStoreModule, createEventStore } from './event-store.module';
export { EVENT_STORE_MODULE_OPTIONS } from './event-store-module-definition';
export { handleCommand, type HandleCommandOptions, type CommandResult } from './decider/handle-command';
export { EventStoreKeys, toStreamName, fromStreamName, isValidStreamName } from './utils/keys';
export { matchesExpectedVersion } from './utils/expected-version';
