import { BAD_VERSION, DUPLICATE_CONTRACT, NO_CONTRACT, STREAM_MISMATCH } from '../event-bus.messages';
import { EVENT_CONTRACT_METADATA } from '../event-bus.constants';
import type { EventClass, EventContractMetadata } from '../interfaces/event-contract.interface';
import { assertName } from '../utils/names';

export interface RegisteredContract {
  readonly cls: EventClass;
  readonly meta: EventContractMetadata;
}

interface TypeVersions {
  byVersion: Map<number, RegisteredContract>;
  /** Oldest first. */
  sorted: RegisteredContract[];
  newest: RegisteredContract;
}

/**
 * Every class decorated with `@EventContract` in this process, by type and version. Filled at
 * decoration time so a consumer can recognise a type even when no handler of its own wants it.
 */
class ContractRegistry {
  private readonly byType = new Map<string, TypeVersions>();

  register(cls: EventClass, meta: EventContractMetadata): void {
    assertName('event type', meta.type);
    assertName('stream', meta.stream);
    if (!Number.isInteger(meta.version) || meta.version < 1) throw new Error(BAD_VERSION(cls.name, meta.version));
    const entry = this.byType.get(meta.type);
    const existing = entry?.byVersion.get(meta.version);
    if (existing && existing.cls !== cls && existing.cls.name !== cls.name) {
      throw new Error(DUPLICATE_CONTRACT(meta.type, meta.version));
    }
    const other = entry?.sorted.find((c) => c.meta.version !== meta.version);
    if (other && other.meta.stream !== meta.stream) {
      throw new Error(STREAM_MISMATCH(meta.type, cls.name, meta.stream, other.cls.name, other.meta.stream));
    }
    const byVersion = entry?.byVersion ?? new Map<number, RegisteredContract>();
    byVersion.set(meta.version, { cls, meta });
    const sorted = [...byVersion.values()].sort((a, b) => a.meta.version - b.meta.version);
    this.byType.set(meta.type, { byVersion, sorted, newest: sorted[sorted.length - 1] });
  }

  find(type: string, version: number): RegisteredContract | undefined {
    return this.byType.get(type)?.byVersion.get(version);
  }

  /** The newest registered version of `type`: what handlers of the type receive. */
  newest(type: string): RegisteredContract | undefined {
    return this.byType.get(type)?.newest;
  }

  /** Every registered version of `type`, oldest first. */
  versions(type: string): readonly RegisteredContract[] {
    return this.byType.get(type)?.sorted ?? [];
  }

  hasType(type: string): boolean {
    return this.byType.has(type);
  }

  /** Every registered type, sorted by name. */
  types(): string[] {
    return [...this.byType.keys()].sort();
  }

  all(): RegisteredContract[] {
    return [...this.byType.values()].flatMap((versions) => versions.sorted);
  }
}

export const contractRegistry = new ContractRegistry();
export type { ContractRegistry };

export function getContract(cls: EventClass): EventContractMetadata {
  const meta = Reflect.getMetadata(EVENT_CONTRACT_METADATA, cls) as EventContractMetadata | undefined;
  if (!meta) throw new Error(NO_CONTRACT(cls.name));
  return meta;
}

export function contractOf(event: object): EventContractMetadata {
  return getContract(event.constructor as EventClass);
}
