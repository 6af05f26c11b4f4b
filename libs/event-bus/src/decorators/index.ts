export * from './consumer-group.decorator';
export * from './event-contract.decorator';
export { PublishResult } from './publish-result.decorator';
export * from './subscribe.decorator';
