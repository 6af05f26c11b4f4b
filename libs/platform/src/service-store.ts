import { DynamicModule, Inject, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { EventBusCore, EventBusKeys } from '@nest-streams/event-bus';

/**
 * A service's own state in Redis, under `<namespace>:svc:<service>:`. It shares the bus's
 * command connection, so a handler can put its writes in `context.commit()` (one MULTI with
 * the dedupe marker and the XACK).
 *
 * `key()` keys share one slot on Redis Cluster (the namespace's tag), so a service's scripts and
 * MULTIs over them stay legal there. `keyFor(subject)` keys hold one subject's state next to its
 * events: with partitioned streams they carry the subject's partition tag, so the outbox
 * (`publish(event, { with })`) and `commit()` stay one MULTI on a cluster.
 */
export class ServiceStore {
  readonly prefix: string;

  constructor(
    readonly redis: Redis,
    namespace: string,
    readonly service: string,
    private readonly keys?: EventBusKeys,
  ) {
    this.prefix = `${namespace}:svc:${service}:`;
  }

  key(...parts: Array<string | number>): string {
    return this.prefix + parts.join(':');
  }

  /**
   * A key of `subject`'s own state, in the slot of the partition its events go to (partitioned
   * streams: `<ns>:svc:<service>:{<ns>/<k>}:<parts>`); `key(...parts)` otherwise.
   */
  keyFor(subject: string, ...parts: Array<string | number>): string {
    const keys = this.keys;
    if (!keys?.partitioned) return this.key(...parts);
    return this.keyIn(keys.partitionOf(subject), parts);
  }

  /** The key `parts` in every partition's slot (the one `key(...parts)` when streams are not partitioned): per-partition indexes. */
  keysInEveryPartition(...parts: Array<string | number>): string[] {
    const keys = this.keys;
    if (!keys?.partitioned) return [this.key(...parts)];
    return keys.all.map((k) => this.keyIn(k, parts));
  }

  private keyIn(k: number, parts: Array<string | number>): string {
    const name = this.keys!.name;
    return `${name}:svc:${this.service}:{${name}/${k}}:${parts.join(':')}`;
  }
}

export const SERVICE_STORE = Symbol('SERVICE_STORE');

/** Inject the calling module's ServiceStore. */
export const InjectStore = (): ParameterDecorator => Inject(SERVICE_STORE);

@Module({})
export class ServiceStoreModule {
  static forService(service: string): DynamicModule {
    return {
      module: ServiceStoreModule,
      providers: [
        {
          provide: SERVICE_STORE,
          useFactory: (core: EventBusCore) => new ServiceStore(core.redis, core.keys.namespace, service, core.keys),
          inject: [EventBusCore],
        },
      ],
      exports: [SERVICE_STORE],
    };
  }
}
