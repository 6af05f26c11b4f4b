import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { ClientRedisStreams, RedisStreamsContext, ServerRedisStreams } from '@nest-streams/event-bus/transport';

const received: Array<{ note: string; stream: string; group: string }> = [];

@Controller()
class NotesController {
  @EventPattern('note.taken')
  onNote(@Payload() data: { note: string }, @Ctx() context: RedisStreamsContext): void {
    received.push({ note: data.note, stream: context.getStream(), group: context.getGroup() });
  }

  @MessagePattern('sum')
  sum(@Payload() numbers: number[]): number {
    return numbers.reduce((a, b) => a + b, 0);
  }
}

@Module({ controllers: [NotesController] })
class NotesModule {}

/** A microservice on the package's transport subpath: one event emitted and handled, one request answered. */
async function main(): Promise<void> {
  const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const namespace = `${process.env.EVENT_BUS_NAMESPACE ?? 'package-app'}-transport`;
  const app = await NestFactory.createMicroservice(NotesModule, {
    strategy: new ServerRedisStreams({ redis, namespace, group: 'notes' }),
    logger: ['error', 'warn'],
  });
  await app.listen();
  const client = new ClientRedisStreams({ redis, namespace });
  try {
    const emitted = await firstValueFrom(client.emit('note.taken', { note: 'hello' }));
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const sum = await firstValueFrom(client.send<number>('sum', [1, 2, 3]));
    console.log(JSON.stringify({ emitted: { stream: emitted.stream }, received, sum }));
  } finally {
    await client.close();
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
