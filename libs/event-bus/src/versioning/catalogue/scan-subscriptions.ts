import type { DynamicModule, ForwardReference, Provider, Type } from '@nestjs/common';
import { MODULE_METADATA } from '@nestjs/common/constants';
import { MetadataScanner } from '@nestjs/core';
import { getContract } from '../../contracts/contract-registry';
import type { SubscriberMetadata } from '../../decorators/subscribe.decorator';
import {
  EVENT_BUS_FEATURE_OPTIONS,
  EVENT_CONSUMER_GROUP_METADATA,
  EVENT_SUBSCRIBER_METADATA,
} from '../../event-bus.constants';
import type { EventBusFeatureOptions } from '../../interfaces/event-bus-options.interface';
import type { EventSubscription } from './event-subscription';

type ModuleRef = Type | DynamicModule | ForwardReference | Promise<DynamicModule>;
interface ModuleNode {
  providers: Provider[];
  imports: ModuleRef[];
}

/**
 * The `@Subscribe` bindings an application module would have, read from decorator metadata
 * without creating the application (no connection, no provider instantiated): for generating the
 * catalogue offline. Resolves groups the way EventBusExplorer does (`@Subscribe({ group })`,
 * then `@ConsumerGroup`, then the module's `forFeature({ group })`). Providers registered with
 * `useFactory`/`useValue`/`useExisting` are not seen; a running app's `EventBusExplorer.subscriptions`
 * is the authority.
 */
export function scanSubscriptions(root: ModuleRef): EventSubscription[] {
  const scanner = new MetadataScanner();
  const out: EventSubscription[] = [];
  const seen = new Set<unknown>();
  const visit = (ref: ModuleRef): void => {
    const node = nodeOf(ref);
    if (!node || seen.has(node.key)) return;
    seen.add(node.key);
    const feature = featureOf(node.node);
    for (const provider of node.node.providers) {
      const cls = classOf(provider);
      if (!cls) continue;
      for (const method of scanner.getAllMethodNames(cls.prototype as object)) {
        const fn = (cls.prototype as Record<string, unknown>)[method];
        const subscriptions = (
          typeof fn === 'function' ? Reflect.getMetadata(EVENT_SUBSCRIBER_METADATA, fn) : undefined
        ) as SubscriberMetadata[] | undefined;
        for (const { event, options } of subscriptions ?? []) {
          const group =
            options.group ??
            (Reflect.getMetadata(EVENT_CONSUMER_GROUP_METADATA, cls) as string | undefined) ??
            feature?.group;
          if (!group) continue;
          const contract = getContract(event);
          const own = feature?.group === group ? feature : undefined;
          out.push({
            group,
            service: own?.source ?? own?.group,
            stream: contract.stream,
            type: contract.type,
            handler: `${cls.name}.${method}`,
          });
        }
      }
    }
    node.node.imports.forEach(visit);
  };
  visit(root);
  return out;
}

function nodeOf(ref: ModuleRef): { key: unknown; node: ModuleNode } | undefined {
  if (!ref || ref instanceof Promise) return undefined;
  if ('forwardRef' in ref && typeof ref.forwardRef === 'function') return nodeOf(ref.forwardRef() as ModuleRef);
  const dynamic = 'module' in ref ? (ref as DynamicModule) : undefined;
  const cls = dynamic ? dynamic.module : (ref as Type);
  const meta = <T>(key: string): T[] => (Reflect.getMetadata(key, cls) as T[] | undefined) ?? [];
  return {
    key: ref,
    node: {
      providers: [...meta<Provider>(MODULE_METADATA.PROVIDERS), ...(dynamic?.providers ?? [])],
      imports: [...meta<ModuleRef>(MODULE_METADATA.IMPORTS), ...((dynamic?.imports ?? []) as ModuleRef[])],
    },
  };
}

/** The forFeature options of a module: its own, or those of a forFeature module it imports. */
function featureOf(node: ModuleNode): EventBusFeatureOptions | undefined {
  for (const candidate of [node, ...node.imports.map((i) => nodeOf(i)?.node)]) {
    const provider = candidate?.providers.find((p) => typeof p === 'object' && p.provide === EVENT_BUS_FEATURE_OPTIONS);
    if (provider && 'useValue' in provider) return provider.useValue as EventBusFeatureOptions;
  }
  return undefined;
}

function classOf(provider: Provider): Type | undefined {
  if (typeof provider === 'function') return provider;
  return 'useClass' in provider ? provider.useClass : undefined;
}
