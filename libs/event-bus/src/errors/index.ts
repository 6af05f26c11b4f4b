export * from './contract-violation.error';
export * from './event-validation.error';
export * from './publish-failed.error';
export * from './incompatible-contracts.error';
export * from './unrecoverable.error';
export * from './group-admin.error';
export * from './cross-slot-transaction.error';
export * from './fenced.error';
