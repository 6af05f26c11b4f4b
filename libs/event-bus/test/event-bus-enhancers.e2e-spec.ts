import {
  CallHandler,
  CanActivate,
  ExecutionContext,
  Injectable,
  INestApplication,
  Module,
  NestInterceptor,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import type Redis from 'ioredis';
import { Observable, tap } from 'rxjs';
import { EventBusModule, EventContext, EventPublisher, Subscribe } from '@nest-streams/event-bus';
import { ParcelOrdered } from './fixtures/fixture-events';
import { testNamespace, testRedisClient, testRedisUrl, waitFor } from '../../../test/support/redis';

/** What the enhancers and handlers saw, in order. */
const seen: string[] = [];

@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const [payload, event] = context.getArgs<[ParcelOrdered, EventContext]>();
    seen.push(
      `before ${context.getType()} ${context.getClass().name}.${context.getHandler().name} ${payload.parcelId} [${event.group}]`,
    );
    return next.handle().pipe(tap(() => seen.push(`after ${payload.parcelId} [${event.group}]`)));
  }
}

/** Lets light parcels through; a heavy one is refused (the handler then counts as failed). */
@Injectable()
class LightParcelsOnly implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.getArgs<[ParcelOrdered]>()[0].weight <= 100;
  }
}

@Injectable()
@UseGuards(LightParcelsOnly)
class GuardedHandlers {
  @Subscribe(ParcelOrdered)
  @UseInterceptors(RecordingInterceptor)
  onParcel(parcel: ParcelOrdered, context: EventContext): void {
    seen.push(`handled ${parcel.parcelId} [${context.group}]`);
  }
}

@Injectable()
class PlainHandlers {
  @Subscribe(ParcelOrdered)
  onParcel(parcel: ParcelOrdered, context: EventContext): void {
    seen.push(`handled ${parcel.parcelId} [${context.group}]`);
  }
}

async function createApp(namespace: string, withGlobalInterceptor: boolean): Promise<INestApplication> {
  @Module({
    imports: [EventBusModule.forFeature({ group: 'guarded', consumer: { retry: { maxAttempts: 1 } } })],
    providers: [GuardedHandlers, RecordingInterceptor, LightParcelsOnly],
  })
  class GuardedModule {}

  @Module({ imports: [EventBusModule.forFeature({ group: 'plain' })], providers: [PlainHandlers] })
  class PlainModule {}

  @Module({
    imports: [
      EventBusModule.forRoot({
        redis: testRedisUrl(),
        namespace,
        source: 'enhancers',
        consumer: { blockMs: 200 },
        isGlobal: true,
      }),
      GuardedModule,
      PlainModule,
    ],
    providers: withGlobalInterceptor ? [{ provide: APP_INTERCEPTOR, useClass: RecordingInterceptor }] : [],
  })
  class RootModule {}

  const app = await NestFactory.create(RootModule, { logger: ['error'] });
  await app.init();
  return app;
}

/**
 * Guards and interceptors apply to event handlers as to routes (the handler's ExecutionContext
 * has type `event-bus` and the arguments `[payload, context]`); handlers without any are called
 * directly.
 */
describe('guards and interceptors on event handlers (real Redis)', () => {
  let redis: Redis;
  let app: INestApplication | undefined;

  beforeAll(() => {
    redis = testRedisClient();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    seen.length = 0;
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('runs method interceptors and class guards around a handler; a refusing guard fails the event into the dead letters', async () => {
    const namespace = testNamespace('enhancers');
    app = await createApp(namespace, false);
    await app.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'P-light', weight: 5 }));
    await app.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'P-heavy', weight: 500 }));
    await waitFor(
      'both groups done',
      async () =>
        seen.filter((line) => line.startsWith('handled')).length === 3 &&
        (await redis.xlen(`${namespace}:{parcels}:dlq`)) === 1,
    );

    expect(seen.filter((line) => line.includes('[guarded]'))).toEqual([
      'before event-bus GuardedHandlers.onParcel P-light [guarded]',
      'handled P-light [guarded]',
      'after P-light [guarded]',
    ]);
    // The plain group has no enhancer: both parcels, no interceptor lines.
    expect(seen.filter((line) => line.includes('[plain]')).sort()).toEqual([
      'handled P-heavy [plain]',
      'handled P-light [plain]',
    ]);
    const [[, fields]] = await redis.xrange(`${namespace}:{parcels}:dlq`, '-', '+');
    const letter = Object.fromEntries(
      fields.map((value, i) => (i % 2 === 0 ? [value, fields[i + 1]] : [])).filter((pair) => pair.length > 0),
    );
    expect(letter).toMatchObject({
      group: 'guarded',
      handler: 'GuardedHandlers.onParcel',
      reason: 'handler-failed',
      error: 'Forbidden resource',
    });
  });

  it('runs a global interceptor (APP_INTERCEPTOR) around every handler', async () => {
    const namespace = testNamespace('enhancers-global');
    app = await createApp(namespace, true);
    await app.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'P-1', weight: 5 }));
    await waitFor('both groups handled it', () => seen.filter((line) => line.startsWith('after')).length === 3);

    expect(seen.filter((line) => line.includes('[plain]'))).toEqual([
      'before event-bus PlainHandlers.onParcel P-1 [plain]',
      'handled P-1 [plain]',
      'after P-1 [plain]',
    ]);
    // The guarded handler has the global interceptor and its own: two before lines, then the handler.
    expect(seen.filter((line) => line.includes('[guarded]'))).toEqual([
      'before event-bus GuardedHandlers.onParcel P-1 [guarded]',
      'before event-bus GuardedHandlers.onParcel P-1 [guarded]',
      'handled P-1 [guarded]',
      'after P-1 [guarded]',
      'after P-1 [guarded]',
    ]);
  });
});
