export * from './consumer-group.decorator';
export * from './event-contract.decorator';
export * from './publish-result.decorator';
export * from './subscribe.decorator';
