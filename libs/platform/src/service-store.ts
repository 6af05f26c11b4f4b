import { DynamicModule, Inject, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { EventBusCore } from '@app/event-bus';

/**
 * A service's own state in Redis, under `<namespace>:svc:<service>:`. It shares the bus's
 * command connection, so a handler can put its writes in `context.commit()` (one MULTI with
 * the dedupe marker and the XACK).
 */
export class ServiceStore {
  readonly prefix: string;

  constructor(
    readonly redis: Redis,
    namespace: string,
    readonly service: string,
  ) {
    this.prefix = `${namespace}:svc:${service}:`;
  }

  key(...parts: Array<string | number>): string {
    return this.prefix + parts.join(':');
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
          useFactory: (core: EventBusCore) => new ServiceStore(core.redis, core.keys.namespace, service),
          inject: [EventBusCore],
        },
      ],
      exports: [SERVICE_STORE],
    };
  }
}
