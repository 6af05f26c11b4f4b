import { CanActivate, Controller, ExecutionContext, Get, Inject, Injectable, Module, Query } from '@nestjs/common';
import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxy,
  ClientsModule,
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
  RpcException,
  Transport,
} from '@nestjs/microservices';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import request from 'supertest';
import type Redis from 'ioredis';
import { from, lastValueFrom, Observable, scan, toArray } from 'rxjs';
import {
  ClientRedisStreams,
  REDIS_STREAMS_TRANSPORT,
  RedisStreamsContext,
  RedisStreamsRecord,
  RequestTimeoutError,
  ServerRedisStreams,
} from '@nest-streams/event-bus/transport';
import type { ConsumerTuning } from '@nest-streams/event-bus';
import { INSTANCE, startService } from './fixtures/transport-service';
import { freePort } from '../../../test/support/redis-server';
import {
  keysMatching,
  pendingCount,
  testBusOptions,
  testNamespace,
  testRedisClient,
  waitFor,
} from '../../../test/support/redis';

/** Handler runs: `<instance> <what> <delivery count>`. */
let runs: string[] = [];

const sum = (numbers: number[]): number => numbers.reduce((a, b) => a + b, 0);

@Controller()
class MathController {
  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @MessagePattern({ cmd: 'sum' })
  sum(@Payload() numbers: number[]): number {
    runs.push(`${this.instance} sum`);
    return sum(numbers);
  }

  @MessagePattern({ cmd: 'asyncSum' })
  async asyncSum(@Payload() numbers: number[]): Promise<number> {
    await new Promise((r) => setTimeout(r, 5));
    return sum(numbers);
  }

  @MessagePattern({ cmd: 'streamSum' })
  streamSum(@Payload() numbers: number[]): Observable<number> {
    return from([sum(numbers)]);
  }

  @MessagePattern({ cmd: 'streaming' })
  streaming(@Payload() numbers: number[]): Observable<number> {
    return from(numbers);
  }

  @MessagePattern('slow.sum')
  async slowSum(@Payload() input: { numbers: number[]; delayMs: number }, @Ctx() ctx: RedisStreamsContext) {
    runs.push(`${this.instance} slow ${ctx.getDeliveryCount()}`);
    await new Promise((r) => setTimeout(r, input.delayMs));
    return sum(input.numbers);
  }

  @MessagePattern('fails')
  fails(@Payload() how: 'rpc' | 'error'): never {
    runs.push(`${this.instance} fails`);
    if (how === 'rpc') throw new RpcException('bad input');
    throw new Error('boom');
  }

  @MessagePattern('echo.envelope')
  echo(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
    const { subject, correlationid } = ctx.getEnvelope();
    return { data, subject, correlationid };
  }

  @MessagePattern('guarded')
  guarded(): string {
    return 'let through';
  }
}

@Injectable()
class RefuseGuarded implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getContext<RedisStreamsContext>().getPattern() !== 'guarded';
  }
}

/** Nest's integration tests go through HTTP: this controller sends what its route is asked. */
@Controller()
class HttpController {
  constructor(@Inject('MATH') private readonly math: ClientProxy) {}

  @Get()
  call(@Query('command') command: string): Observable<number> {
    return this.math.send<number>({ cmd: command }, [1, 2, 3, 4, 5]);
  }
}

/** Handlers pinned to a transport: only those for this one (or for none) bind to ServerRedisStreams. */
@Controller()
class PinnedController {
  @EventPattern('pinned', REDIS_STREAMS_TRANSPORT)
  ours(): void {
    runs.push('ours');
  }

  @EventPattern('pinned', Transport.REDIS)
  nestRedis(): void {
    runs.push('nest redis');
  }
}

describe('ServerRedisStreams and ClientRedisStreams: request/reply', () => {
  const bus = testBusOptions();
  let redis: Redis;
  let namespace: string;
  let client: ClientRedisStreams;
  const closing: Array<{ close(): Promise<unknown> }> = [];

  beforeAll(() => {
    redis = testRedisClient();
  });

  beforeEach(() => {
    runs = [];
    namespace = testNamespace('transport-rpc');
    client = newClient();
  });

  afterEach(async () => {
    await Promise.all(closing.splice(0).map((c) => c.close()));
    await client.close();
  });

  afterAll(async () => {
    await redis.quit();
  });

  function newClient(requestTimeoutMs = 10_000): ClientRedisStreams {
    return new ClientRedisStreams({ ...bus, namespace, metrics: false, requestTimeoutMs });
  }

  async function service(instance: string, group = 'math', consumer?: ConsumerTuning): Promise<INestMicroservice> {
    const { app } = await startService({
      ...bus,
      namespace,
      group,
      instance,
      consumer,
      controllers: [MathController],
      configure: (a) => a.useGlobalGuards(new RefuseGuarded()),
    });
    closing.push(app);
    return app;
  }

  it('sums [1..5] to 15 through a sync, a Promise and an Observable handler', async () => {
    await service('m1');
    for (const cmd of ['sum', 'asyncSum', 'streamSum']) {
      expect(await lastValueFrom(client.send<number>({ cmd }, [1, 2, 3, 4, 5]))).toBe(15);
    }
    await waitFor(
      'acknowledged',
      async () => (await pendingCount(redis, namespace, 'rpc.cmd_sum-' + '', 'math')) === 0,
    );
  });

  it('streams every value an Observable handler emits, in order, then completes', async () => {
    await service('m1');
    const values = await lastValueFrom(client.send<number>({ cmd: 'streaming' }, [1, 2, 3, 4, 5]).pipe(toArray()));
    expect(values).toEqual([1, 2, 3, 4, 5]);
    const total = await lastValueFrom(
      client.send<number>({ cmd: 'streaming' }, [1, 2, 3, 4, 5]).pipe(scan((a, b) => a + b)),
    );
    expect(total).toBe(15);
  });

  it('10 concurrent sends each get their own answer', async () => {
    await service('m1');
    const inputs = Array.from({ length: 10 }, (_, i) => Array.from({ length: i + 1 }, (_, j) => j + i));
    const answers = await Promise.all(
      inputs.map((numbers) => lastValueFrom(client.send<number>({ cmd: 'sum' }, numbers))),
    );
    expect(answers).toEqual(inputs.map(sum));
    expect(runs.filter((r) => r === 'm1 sum')).toHaveLength(10);
  });

  it('an unknown pattern fails at once with Nest\'s "no matching message handler", and nothing is written', async () => {
    await service('m1');
    const began = Date.now();
    await expect(lastValueFrom(client.send({ cmd: 'nobody-serves-this' }, [1]))).rejects.toBe(
      'There is no matching message handler defined in the remote service.',
    );
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(await keysMatching(redis, `${namespace}:*nobody*`)).toEqual([]);
  });

  it('a handler error reaches the caller as Nest RPC errors do, and the request is not retried', async () => {
    await service('m1');
    await expect(lastValueFrom(client.send('fails', 'rpc'))).rejects.toEqual({ status: 'error', message: 'bad input' });
    await expect(lastValueFrom(client.send('fails', 'error'))).rejects.toEqual({
      status: 'error',
      message: 'Internal server error',
    });
    await expect(lastValueFrom(client.send('guarded', 'x'))).rejects.toEqual({
      status: 'error',
      message: 'Forbidden resource',
    });
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'rpc.fails', 'math')) === 0);
    expect(runs.filter((r) => r === 'm1 fails')).toHaveLength(2);
  });

  it('no complete reply within requestTimeoutMs fails with RequestTimeoutError and forgets the request', async () => {
    await service('m1');
    const impatient = newClient(300);
    closing.push(impatient);
    const failure = await lastValueFrom(impatient.send('slow.sum', { numbers: [1, 2], delayMs: 1_000 })).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(RequestTimeoutError);
    expect((impatient as unknown as { routingMap: Map<string, unknown> }).routingMap.size).toBe(0);
  });

  it('a request sent while no instance runs is answered once one starts; one whose caller gave up is not run', async () => {
    const first = await service('m1');
    await first.close();
    closing.splice(closing.indexOf(first), 1);
    const answer = lastValueFrom(client.send<number>('slow.sum', { numbers: [4, 5], delayMs: 0 }));
    const impatient = newClient(200);
    closing.push(impatient);
    const expired = lastValueFrom(impatient.send('slow.sum', { numbers: [9], delayMs: 0 })).catch((e: unknown) => e);
    expect(await expired).toBeInstanceOf(RequestTimeoutError);
    await new Promise((r) => setTimeout(r, 300));
    await service('m2');
    expect(await answer).toBe(9);
    await waitFor(
      'both acknowledged',
      async () => (await pendingCount(redis, namespace, 'rpc.slow.sum', 'math')) === 0,
    );
    expect(runs).toEqual(['m2 slow 1']);
  });

  it('two instances of one service share the requests: each runs once, each gets its answer', async () => {
    // NOTE: at most 4 requests a read: the 40 arrive together, and one read of 100 would take them all.
    await service('m1', 'math', { batchSize: 4 });
    await service('m2', 'math', { batchSize: 4 });
    if (bus.partitions > 1) await new Promise((r) => setTimeout(r, 1_500));
    const inputs = Array.from({ length: 40 }, (_, i) => [i, 1]);
    const answers = await Promise.all(
      inputs.map((numbers) => lastValueFrom(client.send<number>('slow.sum', { numbers, delayMs: 20 }))),
    );
    expect(answers).toEqual(inputs.map(sum));
    expect(runs).toHaveLength(inputs.length);
    expect(runs.filter((r) => r.startsWith('m1 ')).length).toBeGreaterThan(0);
    expect(runs.filter((r) => r.startsWith('m2 ')).length).toBeGreaterThan(0);
  });

  it("through HTTP, as Nest's own tests drive it: a sum is 15, an unknown pattern is a 500", async () => {
    await service('m1');
    @Module({
      imports: [
        ClientsModule.register([
          { name: 'MATH', customClass: ClientRedisStreams, options: { ...bus, namespace, metrics: false } },
        ]),
      ],
      controllers: [HttpController],
    })
    class HttpModule {}
    const app = await NestFactory.create(HttpModule, { logger: false });
    closing.push(app);
    await app.init();
    await request(app.getHttpServer()).get('/?command=sum').expect(200).expect('15');
    await request(app.getHttpServer()).get('/?command=streamSum').expect(200).expect('15');
    await request(app.getHttpServer()).get('/?command=none').expect(500);
  });

  it('the strategy can come from an async useFactory', async () => {
    @Module({ controllers: [MathController], providers: [{ provide: INSTANCE, useValue: 'f1' }] })
    class FactoryModule {}
    const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(FactoryModule, {
      logger: ['error'],
      inject: [INSTANCE],
      useFactory: (instance: string) => ({
        strategy: new ServerRedisStreams({ ...bus, namespace, group: 'math', consumerName: instance, metrics: false }),
      }),
    });
    closing.push(app);
    await app.listen();
    expect(await lastValueFrom(client.send<number>({ cmd: 'sum' }, [1, 2, 3, 4, 5]))).toBe(15);
    expect(runs).toEqual(['f1 sum']);
  });

  it('binds handlers pinned to this transport or to none, not those pinned to another transport', async () => {
    await startService({ ...bus, namespace, group: 'pins', instance: 'p1', controllers: [PinnedController] }).then(
      ({ app }) => closing.push(app),
    );
    await lastValueFrom(client.emit('pinned', { n: 1 }));
    await waitFor('handled', () => runs.length > 0);
    await waitFor('acknowledged', async () => (await pendingCount(redis, namespace, 'pinned', 'pins')) === 0);
    expect(runs).toEqual(['ours']);
  });

  it('a RedisStreamsRecord payload reaches the handler as its data, with its subject and correlation on the envelope', async () => {
    await service('m1');
    const answer = await lastValueFrom(
      client.send<{ data: unknown; subject?: string; correlationid?: string }>(
        'echo.envelope',
        new RedisStreamsRecord([1, 2], { subject: 'acc-7', correlationId: 'corr-1' }),
      ),
    );
    expect(answer).toEqual({ data: [1, 2], subject: 'acc-7', correlationid: 'corr-1' });
  });

  it('close() fails the requests still waiting for a reply, at once', async () => {
    await service('m1');
    const closingClient = newClient(30_000);
    const waiting = lastValueFrom(closingClient.send('slow.sum', { numbers: [1], delayMs: 1_500 })).catch(
      (e: unknown) => e,
    );
    await waitFor('the request runs', () => runs.includes('m1 slow 1'));
    const began = Date.now();
    await closingClient.close();
    const failure = await waiting;
    expect(String(failure)).toMatch(/closed before the reply came/);
    expect(Date.now() - began).toBeLessThan(1_000);
    expect((closingClient as unknown as { routingMap: Map<string, unknown> }).routingMap.size).toBe(0);
  });

  it('a disconnected client fails send() promptly instead of hanging', async () => {
    const port = await freePort();
    const offline = new ClientRedisStreams({ redis: `redis://127.0.0.1:${port}`, namespace, publishTimeoutMs: 300 });
    closing.push(offline);
    const began = Date.now();
    await expect(lastValueFrom(offline.send({ cmd: 'sum' }, [1]))).rejects.toThrow(/did not answer within 300 ms/);
    expect(Date.now() - began).toBeLessThan(2_000);
  });
});
