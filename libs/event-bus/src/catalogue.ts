/**
 * Contract tooling of @nest-streams/event-bus: the registry of `@EventContract` classes, schema
 * compatibility between versions, the subscriptions of an app, and the AsyncAPI / Markdown catalogue.
 */
export { contractRegistry, getContract, type RegisteredContract } from './contracts/contract-registry';
export { upcasterRegistry, type RegisteredUpcaster } from './versioning/upcaster-registry';
export { compareSchemas, type Incompatibility, type SchemaComparison } from './versioning/schema-compatibility';
export {
  checkContractCompatibility,
  describeProblem,
  describeProblems,
  type CompatibilityReport,
  type VersionStep,
  type MissingUpcaster,
} from './versioning/contract-compatibility';
export { payloadJsonSchema } from './validation/payload-validator';
export type { EventSubscription } from './versioning/catalogue/event-subscription';
export { scanSubscriptions } from './versioning/catalogue/scan-subscriptions';
export { buildAsyncApi, messageId, type AsyncApiDocument, type AsyncApiInput } from './versioning/catalogue/asyncapi';
export { renderCatalogueMarkdown, type CatalogueInput } from './versioning/catalogue/catalogue-markdown';
