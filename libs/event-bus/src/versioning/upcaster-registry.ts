import { DUPLICATE_UPCASTER } from './versioning.messages';

/**
 * Turns the payload of one version of an event type into the payload of a newer version. Pure:
 * no I/O, no injected services; it may run several times for one event (retries, replays).
 */
export interface EventUpcaster<From extends object = object, To extends object = object> {
  upcast(payload: From): To;
}

/** One registered step of a type's upcasting chain. */
export interface RegisteredUpcaster {
  readonly type: string;
  readonly from: number;
  readonly to: number;
  /** The class that declares it, for logs, dead letters and the catalogue. */
  readonly name: string;
  readonly upcast: (payload: object) => object;
}

/** Every `@Upcaster` in this process, by type and the version it starts from. Filled at decoration time. */
class UpcasterRegistry {
  private readonly byType = new Map<string, Map<number, RegisteredUpcaster>>();

  register(upcaster: RegisteredUpcaster): void {
    const steps = this.byType.get(upcaster.type) ?? new Map<number, RegisteredUpcaster>();
    const existing = steps.get(upcaster.from);
    // NOTE: the same class declared again (jest module registries, hot reload) replaces itself.
    if (existing && existing.name !== upcaster.name)
      throw new Error(DUPLICATE_UPCASTER(upcaster.type, upcaster.from, existing.name, upcaster.name));
    steps.set(upcaster.from, upcaster);
    this.byType.set(upcaster.type, steps);
  }

  /** The upcaster of `type` that starts at `from`. */
  find(type: string, from: number): RegisteredUpcaster | undefined {
    return this.byType.get(type)?.get(from);
  }

  all(): RegisteredUpcaster[] {
    return [...this.byType.values()]
      .flatMap((steps) => [...steps.values()])
      .sort((a, b) => a.type.localeCompare(b.type) || a.from - b.from);
  }
}

export const upcasterRegistry = new UpcasterRegistry();
