import { contractRegistry } from '@nest-streams/event-bus/catalogue';
import './order-placed.event';

/** The contracts this app declares, from the package's contract tooling entry point. */
console.log(JSON.stringify(contractRegistry.all().map(({ meta }) => `${meta.type}@${meta.version} on ${meta.stream}`)));
