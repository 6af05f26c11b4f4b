import { DUPLICATE_CONTRACT, NO_CONTRACT } from '../event-bus.messages';
import { EVENT_CONTRACT_METADATA } from '../event-bus.constants';
import type { EventClass, EventContractMetadata } from '../interfaces/event-contract.interface';
import { assertName } from '../utils/names';

export interface RegisteredContract {
  readonly cls: EventClass;
  readonly meta: EventContractMetadata;
}

/**
 * Every class decorated with `@EventContract` in this process, by type and version. Filled at
 * decoration time so a consumer can recognise a type even when no handler of its own wants it.
 */
class ContractRegistry {
  private readonly byType = new Map<string, Map<number, RegisteredContract>>();

  register(cls: EventClass, meta: EventContractMetadata): void {
    assertName('event type', meta.type);
    assertName('stream', meta.stream);
    const versions = this.byType.get(meta.type) ?? new Map<number, RegisteredContract>();
    const existing = versions.get(meta.version);
    if (existing && existing.cls !== cls && existing.cls.name !== cls.name) {
      throw new Error(DUPLICATE_CONTRACT(meta.type, meta.version));
    }
    versions.set(meta.version, { cls, meta });
    this.byType.set(meta.type, versions);
  }

  find(type: string, version: number): RegisteredContract | undefined {
    return this.byType.get(type)?.get(version);
  }

  hasType(type: string): boolean {
    return this.byType.has(type);
  }

  all(): RegisteredContract[] {
    return [...this.byType.values()].flatMap((versions) => [...versions.values()]);
  }
}

export const contractRegistry = new ContractRegistry();

export function getContract(cls: EventClass): EventContractMetadata {
  const meta = Reflect.getMetadata(EVENT_CONTRACT_METADATA, cls) as EventContractMetadata | undefined;
  if (!meta) throw new Error(NO_CONTRACT(cls.name));
  return meta;
}

export function contractOf(event: object): EventContractMetadata {
  return getContract(event.constructor as EventClass);
}
