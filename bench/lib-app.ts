import 'reflect-metadata';
import { DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { OrderPlaced } from '@app/contracts';
import { EventBusExplorer, EventBusModule, EventPublisher, Subscribe } from '@app/event-bus';
import type { ConsumerTuning, EventContext } from '@app/event-bus';
import type { OrderProps } from './events';
import { extraRootOptions, extraTuning } from './util';

/**
 * Builds Nest application contexts around the library for the bench. Loaded lazily by the
 * phases (require), so the raw side still runs when the library does not load.
 */

export interface Sink {
  onEvent(payload: OrderPlaced, context: EventContext): void;
}

const SINK = Symbol('BENCH_SINK');

@Injectable()
class BenchHandler {
  constructor(@Inject(SINK) private readonly sink: Sink) {}

  @Subscribe(OrderPlaced)
  onOrderPlaced(payload: OrderPlaced, context: EventContext): void {
    this.sink.onEvent(payload, context);
  }
}

@Module({})
class BenchFeatureModule {}

@Module({})
class BenchRootModule {}

export interface LibAppOptions {
  url: string;
  namespace: string;
  /** Consumer group of the handler; no handler (publish only) when absent. */
  group?: string;
  consumer?: ConsumerTuning;
  sink?: Sink;
}

export interface LibApp {
  app: INestApplicationContext;
  publisher: EventPublisher;
  /** Consumer stats of the bench group (delivered / acked / ...), when consuming. */
  stats(): { delivered: number; acked: number; deadLettered: number; failed: number } | undefined;
  close(): Promise<void>;
}

export async function createLibApp(options: LibAppOptions): Promise<LibApp> {
  // NOTE: BENCH_LIB_CONSUMER tuning applies to every library consumer of the run (printed in the config line).
  const consumer = { ...options.consumer, ...extraTuning() } as ConsumerTuning;
  const imports: DynamicModule[] = [
    EventBusModule.forRoot({
      redis: options.url,
      namespace: options.namespace,
      source: 'bench',
      consume: options.group !== undefined,
      consumer,
      isGlobal: true,
      ...extraRootOptions(),
    }),
  ];
  if (options.group !== undefined) {
    imports.push({
      module: BenchFeatureModule,
      imports: [EventBusModule.forFeature({ group: options.group, consumer })],
      providers: [BenchHandler, { provide: SINK, useValue: options.sink ?? { onEvent: () => undefined } }],
    });
  }
  const app = await NestFactory.createApplicationContext({ module: BenchRootModule, imports }, { logger: process.env.BENCH_WARN === '1' ? ['error', 'warn'] : ['error'] });
  const publisher = app.get(EventPublisher);
  let closed = false;
  return {
    app,
    publisher,
    stats: () => (options.group ? app.get(EventBusExplorer).groups.get(options.group)?.stats : undefined),
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

export function toEvent(props: OrderProps): OrderPlaced {
  return new OrderPlaced(props as OrderPlaced);
}

