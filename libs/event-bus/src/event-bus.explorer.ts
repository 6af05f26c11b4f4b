import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleInit,
  Type,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import type { ApplicationConfig } from '@nestjs/core/application-config';
import { ExternalContextCreator } from '@nestjs/core/helpers/external-context-creator';
import { isObservable, lastValueFrom } from 'rxjs';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import type { Module } from '@nestjs/core/injector/module';
import { EVENT_BUS_FEATURE_OPTIONS } from './event-bus.constants';
import { BINDING, NO_GROUP, REQUEST_SCOPED } from './event-bus.messages';
import { EventBusCore } from './event-bus.core';
import { EventBusMetadataAccessor } from './event-bus-metadata.accessor';
import { contractRegistry, getContract } from './contracts/contract-registry';
import type { EventHandlerFn, HandlerBinding } from './consumer/binding';
import { GroupConsumer } from './consumer/group-consumer';
import { Dispatcher } from './consumer/dispatcher';
import { GroupRunner, PartitionedGroup } from './consumer/partitioned-group';
import type { EventBusFeatureOptions } from './interfaces/event-bus-options.interface';
import { EventPublisher } from './publisher/event-publisher';
import { resultPublishers } from './decorators/publish-result.decorator';
import type { EventSubscription } from './versioning/catalogue/event-subscription';
import { OLDER_SUBSCRIPTION } from './versioning/versioning.messages';

// NOTE: exception filters off: a failing handler is the consumer's to log, retry and dead-letter.
const HANDLER_CONTEXT = { guards: true, interceptors: true, filters: false };

type Methods = Record<string, (...args: unknown[]) => unknown>;

/**
 * Finds `@Subscribe` and `@PublishResult` methods at bootstrap, binds each handler to its
 * group, and runs one GroupConsumer per group (a PartitionedGroup of them, one per owned
 * partition, when streams are partitioned).
 */
@Injectable()
export class EventBusExplorer implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('EventBus');
  private readonly consumers = new Map<string, GroupRunner>();
  private readonly bound: EventSubscription[] = [];
  private readonly publishers = new Map<string, EventPublisher>();

  constructor(
    private readonly core: EventBusCore,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: EventBusMetadataAccessor,
    private readonly contextCreator: ExternalContextCreator,
  ) {}

  /** The running consumers, by group. */
  get groups(): ReadonlyMap<string, GroupRunner> {
    return this.consumers;
  }

  /** Every handler bound at bootstrap (also when this process does not consume), for the event catalogue. */
  get subscriptions(): readonly EventSubscription[] {
    return this.bound;
  }

  onModuleInit(): void {
    const candidates = [...this.providers(), ...this.discovery.getControllers().filter((w) => w.instance && w.host)];
    for (const wrapper of candidates) {
      const instance = wrapper.instance as Methods;
      const methods = this.scanner.getAllMethodNames(Object.getPrototypeOf(instance));
      if (!methods.some((method) => this.accessor.publishesResult(instance[method]))) continue;
      const feature = this.featureOf(wrapper.host);
      resultPublishers.set(instance, this.publisherFor(feature));
    }
  }

  /**
   * The function a delivery calls: through Nest's ExternalContextCreator when guards or
   * interceptors apply (the method's, its class's, or global ones), so they run around events as
   * around routes; otherwise the method itself, which is all that wrapper would call (event
   * handlers take no pipes or parameter decorators). The wrapper costs ~1.8 KB of garbage and a
   * handful of promises per call on the hot path.
   */
  private handlerOf(instance: Methods, method: string): EventHandlerFn {
    if (this.hasEnhancers(instance, method)) {
      return this.contextCreator.create(
        instance,
        instance[method],
        method,
        undefined,
        undefined,
        undefined,
        undefined,
        HANDLER_CONTEXT,
        'event-bus',
      );
    }
    const fn = instance[method];
    // NOTE: may throw before returning: callers await it inside try (one handler) or call it from an async function (several).
    return (payload, context) => {
      const result = fn.call(instance, payload, context);
      // NOTE: as the wrapper does, an Observable a handler returns is awaited to its last value.
      return isObservable(result) ? lastValueFrom(result) : result;
    };
  }

  /** Whether any guard or interceptor applies to `instance[method]`; true when that cannot be told. */
  private hasEnhancers(instance: Methods, method: string): boolean {
    // NOTE: the container Nest's ExternalContextCreator.fromContainer() keeps (not public API): without it, assume enhancers.
    const config = (this.contextCreator as unknown as { container?: { applicationConfig?: ApplicationConfig } })
      .container?.applicationConfig;
    if (!config) return true;
    const global = [
      config.getGlobalGuards(),
      config.getGlobalRequestGuards(),
      config.getGlobalInterceptors(),
      config.getGlobalRequestInterceptors(),
    ];
    const local = [GUARDS_METADATA, INTERCEPTORS_METADATA].flatMap((key) => [
      Reflect.getMetadata(key, instance.constructor),
      Reflect.getMetadata(key, instance[method]),
    ]);
    return [...global, ...local].some((list: unknown[] | undefined) => (list?.length ?? 0) > 0);
  }

  async onApplicationBootstrap(): Promise<void> {
    const byGroup = new Map<string, { bindings: HandlerBinding[]; feature?: EventBusFeatureOptions }>();
    for (const wrapper of this.providers()) {
      const instance = wrapper.instance as Methods;
      const feature = this.featureOf(wrapper.host);
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        for (const { event, options } of this.accessor.subscriptions(instance[method])) {
          const name = `${wrapper.metatype?.name ?? wrapper.name}.${method}`;
          const group = options.group ?? this.accessor.consumerGroup(instance.constructor as Type) ?? feature?.group;
          if (!group) throw new Error(NO_GROUP(name));
          const contract = getContract(event);
          // NOTE: a binding is per type: it receives the newest version, older entries upcast.
          const newest = contractRegistry.newest(contract.type)!;
          if (newest.meta.version !== contract.version) {
            this.logger.warn(
              OLDER_SUBSCRIPTION(
                name,
                event.name,
                contract.type,
                contract.version,
                newest.meta.version,
                newest.cls.name,
              ),
            );
          }
          const entry = byGroup.get(group) ?? { bindings: [], feature: feature?.group === group ? feature : undefined };
          const tuning = this.core.tuning(entry.feature?.consumer);
          entry.bindings.push({
            group,
            stream: contract.stream,
            type: contract.type,
            contract: newest.cls,
            name,
            validate: options.validate ?? tuning.validate,
            retry: options.retry,
            handler: this.handlerOf(instance, method),
            publisher: this.publisherFor(feature),
          });
          byGroup.set(group, entry);
          this.bound.push({
            group,
            service: entry.feature?.source ?? entry.feature?.group,
            stream: contract.stream,
            type: contract.type,
            handler: name,
          });
          this.logger.log(BINDING(name, contract.stream, contract.type, group));
        }
      }
    }
    if (this.core.options.consume === false) return;
    for (const [group, { bindings, feature }] of byGroup) {
      const tuning = this.core.tuning(feature?.consumer);
      // NOTE: the partitions of a group share one dispatcher: `concurrency` is per group and process.
      const dispatcher = new Dispatcher(tuning.concurrency);
      const consumer: GroupRunner = this.core.keys.partitioned
        ? new PartitionedGroup(
            this.core,
            group,
            tuning,
            (scope) => new GroupConsumer(this.core, group, tuning, bindings, scope, dispatcher),
          )
        : new GroupConsumer(this.core, group, tuning, bindings);
      await consumer.start();
      this.consumers.set(group, consumer);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.stop()));
    this.consumers.clear();
  }

  private providers(): InstanceWrapper[] {
    return this.discovery.getProviders().filter((wrapper) => {
      if (!wrapper.instance || typeof wrapper.instance !== 'object' || !wrapper.host) return false;
      if (!wrapper.isDependencyTreeStatic()) {
        const methods = this.scanner.getAllMethodNames(Object.getPrototypeOf(wrapper.instance));
        const proto = Object.getPrototypeOf(wrapper.instance) as Methods;
        if (methods.some((m) => this.accessor.subscriptions(proto[m]).length > 0))
          this.logger.warn(REQUEST_SCOPED(wrapper.name));
        return false;
      }
      return true;
    });
  }

  /** A publisher with the feature's service as `source` (the root's without one), one per source. */
  private publisherFor(feature: EventBusFeatureOptions | undefined): EventPublisher {
    const source = feature?.source ?? feature?.group ?? this.core.options.source ?? 'app';
    let publisher = this.publishers.get(source);
    if (!publisher) this.publishers.set(source, (publisher = new EventPublisher(this.core, source)));
    return publisher;
  }

  /** The forFeature options of the module that declares a provider (its own or an imported forFeature). */
  private featureOf(host: Module | null | undefined): EventBusFeatureOptions | undefined {
    if (!host) return undefined;
    for (const candidate of [host, ...host.imports]) {
      if (candidate.providers.has(EVENT_BUS_FEATURE_OPTIONS)) {
        return candidate.getProviderByKey<EventBusFeatureOptions>(EVENT_BUS_FEATURE_OPTIONS).instance;
      }
    }
    return undefined;
  }
}
