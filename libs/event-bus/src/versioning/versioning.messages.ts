const NEW_TYPE_ADVICE =
  'versions of one type may only add optional fields: keep this version compatible, or publish the new shape as a new event type ' +
  '(docs/contract.md section 5: removing, renaming or retyping a field is a new type)';

export const INCOMPATIBLE_VERSION = (type: string, from: number, to: number, field: string, change: string): string =>
  `${type} v${from} -> v${to}: ${field ? `field "${field}"` : 'the payload'} ${change}`;
export const INCOMPATIBLE_CONTRACTS = (problems: string[]): string =>
  `event contracts break compatibility between versions:\n  - ${problems.join('\n  - ')}\n${NEW_TYPE_ADVICE}`;
export const UPCASTER_NOT_A_CONTRACT_PAIR = (name: string, from: string, to: string, why: string): string =>
  `@Upcaster(${from}, ${to}) on ${name}: ${why}`;
export const DUPLICATE_UPCASTER = (type: string, from: number, a: string, b: string): string =>
  `two upcasters of ${type} start at v${from} (${a} and ${b}): each version has at most one upcaster to a newer one`;
export const UNKNOWN_VERSION = (type: string, version: number, known: number[]): string =>
  `${type} has no contract for version ${version} (this service knows ${known.map((v) => `v${v}`).join(', ')})` +
  (version > Math.max(...known) ? ': deploy the newer contract to the consumers before producers publish it' : '');
export const NO_UPCASTER = (
  type: string,
  version: number,
  newest: number,
  at: number,
  fromClass: string,
  nextClass: string,
): string =>
  `${type} v${version} cannot be upcast to v${newest}: no upcaster from v${at}; ` +
  `declare @Upcaster(${fromClass}, ${nextClass}) on a class with upcast(payload), then redrive the dead letters`;
export const UPCAST_FAILED = (type: string, name: string, from: number, to: number, message: string): string =>
  `${type}: upcaster ${name} (v${from} -> v${to}) failed: ${message}`;
export const MISSING_UPCASTER = (
  type: string,
  from: number,
  newest: number,
  fromClass: string,
  nextClass: string,
): string =>
  `${type} v${from} has no upcaster towards v${newest}: v${from} entries will be dead-lettered (no-upcaster); ` +
  `declare @Upcaster(${fromClass}, ${nextClass})`;
export const OLDER_SUBSCRIPTION = (
  handler: string,
  cls: string,
  type: string,
  version: number,
  newest: number,
  newestClass: string,
): string =>
  `${handler} subscribes with ${cls} (${type} v${version}); handlers receive the newest version of a type, ` +
  `so it gets ${newestClass} (v${newest}) payloads, older entries upcast: type its parameter as ${newestClass}`;
