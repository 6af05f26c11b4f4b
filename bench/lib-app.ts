import 'reflect-metadata';
import { DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { OrderPlaced, PaymentSucceeded } from '@app/contracts';
import { EventBusCore, EventBusModule, EventPublisher, Subscribe } from '@nest-streams/event-bus';
import { EventBusExplorer } from '@nest-streams/event-bus/event-bus.explorer';
import type { ConsumerTuning, EventContext } from '@nest-streams/event-bus';
import { paymentOf } from './events';
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

/** What the commit phase's handler does and whom it tells (see StepHandler). */
export interface StepSink {
  mode: 'plain' | 'commit';
  /** The hash whose field `n` each handled event increments. */
  stateKey: string;
  /** Called as each handler call begins (the phase starts its clocks on the first). */
  begin(): void;
  /** Called once the handler's writes are done. */
  done(): void;
}

const STEP = Symbol('BENCH_STEP');

/**
 * The commit phase's handler: per OrderPlaced, one derived PaymentSucceeded and one HINCRBY,
 * either as two awaited commands (`plain`, then the library's batched XACK) or in the one MULTI
 * of `context.commit()` with the dedupe marker and the XACK (`commit`).
 */
@Injectable()
class StepHandler {
  constructor(
    @Inject(STEP) private readonly step: StepSink,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(EventBusCore) private readonly core: EventBusCore,
  ) {}

  @Subscribe(OrderPlaced)
  async onOrderPlaced(order: OrderPlaced, context: EventContext): Promise<void> {
    const step = this.step;
    step.begin();
    const payment = new PaymentSucceeded(paymentOf(order));
    if (step.mode === 'commit') {
      await context.commit((tx) => tx.hincrby(step.stateKey, 'n', 1), { publish: [payment] });
    } else {
      await this.publisher.publish(payment);
      await this.core.redis.hincrby(step.stateKey, 'n', 1);
    }
    step.done();
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
  /** The commit phase's handler instead of the sink's (see StepSink). */
  step?: StepSink;
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
      providers: options.step
        ? [StepHandler, { provide: STEP, useValue: options.step }]
        : [BenchHandler, { provide: SINK, useValue: options.sink ?? { onEvent: () => undefined } }],
    });
  }
  const app = await NestFactory.createApplicationContext(
    { module: BenchRootModule, imports },
    { logger: process.env.BENCH_WARN === '1' ? ['error', 'warn'] : ['error'] },
  );
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
