export const NO_CONTRACT = (name: string): string =>
  `${name} is not an event contract: decorate the class with @EventContract({ type, version, stream })`;
export const NO_GROUP = (handler: string): string =>
  `${handler} has no consumer group: import EventBusModule.forFeature({ group }) in its module, ` +
  `decorate the class with @ConsumerGroup('name'), or pass { group } to @Subscribe`;
export const DUPLICATE_CONTRACT = (type: string, version: number): string =>
  `two classes declare event ${type} v${version}: each (type, version) must have one contract class`;
export const INVALID_PAYLOAD = (type: string, fields: string): string =>
  `${type} payload is invalid (${fields}): nothing was published; fix the fields named`;
export const BAD_NAME = (what: string, value: string): string =>
  `${what} "${value}" is not allowed: use letters, digits, '.', '_', '-' and ':' only`;
export const BINDING = (handler: string, stream: string, type: string, group: string): string =>
  `${handler} <- ${stream}/${type} [group ${group}]`;
export const REQUEST_SCOPED = (name: string): string =>
  `${name} is request-scoped: event handlers must be singletons; its @Subscribe methods are skipped`;
export const NO_PUBLISHER = (owner: string): string =>
  `${owner} is decorated with @PublishResult but its instance was not created by a Nest app that imports EventBusModule`;
export const BAD_VERSION = (name: string, version: unknown): string =>
  `${name}: @EventContract version ${String(version)} is not allowed: versions are integers from 1`;
export const STREAM_MISMATCH = (type: string, a: string, streamA: string, b: string, streamB: string): string =>
  `event ${type}: ${a} is on stream "${streamA}" but ${b} is on "${streamB}": every version of a type lives on one stream ` +
  '(a type that moves to another stream is a new type)';
