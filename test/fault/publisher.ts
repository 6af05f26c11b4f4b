import 'reflect-metadata';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventBusModule, EventPublisher } from '@nest-streams/event-bus';
import { FaultTick } from './fault-events';

/** The payload id of tick `n` (POISON_IDS names these). */
export const tickId = (n: number): string => `tick-${n}`;

/**
 * The envelope id of tick `n`: fixed per (namespace, n), so republishing a batch whose publish
 * failed (PublishFailedError: it may or may not be in the stream) is deduped by consumers.
 */
export const tickEventId = (namespace: string, n: number): string => `${namespace}.tick-${n}`;

/** What became of one publishMany batch of ticks [from, to). */
export interface BatchOutcome {
  from: number;
  to: number;
  ok: boolean;
  error?: string;
}

/**
 * A publish-only app (`consume: false`) publishing FaultTicks `n = from .. from+count-1` in
 * publishMany batches. Used in-process by the tests, or as a child process (see the bottom).
 */
export class FaultPublisher {
  private constructor(
    private readonly app: INestApplicationContext,
    private readonly publisher: EventPublisher,
    private readonly namespace: string,
  ) {}

  static async open(redisUrl: string, namespace: string, publishRetries?: number): Promise<FaultPublisher> {
    @Module({
      imports: [
        EventBusModule.forRoot({
          redis: redisUrl,
          namespace,
          source: 'fault-publisher',
          consume: false,
          publishRetries,
          isGlobal: true,
        }),
      ],
    })
    class FaultPublisherModule {}
    const app = await NestFactory.createApplicationContext(FaultPublisherModule, { logger: ['error'] });
    return new FaultPublisher(app, app.get(EventPublisher), namespace);
  }

  /** Publishes tick `n` alone (`publish`, not `publishMany`); rejects as the library does (PublishFailedError). */
  async publishTick(n: number): Promise<void> {
    await this.publisher.publish(new FaultTick({ n, id: tickId(n) }), { id: tickEventId(this.namespace, n) });
  }

  /** Publishes ticks [from, to) in one publishMany; rejects as the library does (PublishFailedError). */
  async publishBatch(from: number, to: number): Promise<void> {
    const ticks = Array.from({ length: to - from }, (_, i) => ({
      event: new FaultTick({ n: from + i, id: tickId(from + i) }),
      options: { id: tickEventId(this.namespace, from + i) },
    }));
    await this.publisher.publishMany(ticks);
  }

  /**
   * Publishes every batch in turn; a batch that fails is reported and the next one still tried.
   * `pauseMs` between batches paces a publisher that a test wants to catch mid-way.
   */
  async publishTicks(
    from: number,
    count: number,
    batchSize = 1000,
    onBatch?: (outcome: BatchOutcome) => void,
    pauseMs = 0,
  ): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = [];
    for (let start = from; start < from + count; start += batchSize) {
      const end = Math.min(start + batchSize, from + count);
      let outcome: BatchOutcome;
      try {
        await this.publishBatch(start, end);
        outcome = { from: start, to: end, ok: true };
      } catch (error) {
        outcome = {
          from: start,
          to: end,
          ok: false,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        };
      }
      outcomes.push(outcome);
      onBatch?.(outcome);
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    return outcomes;
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

/**
 * As a child process: REDIS_URL, NAMESPACE, FROM (0), COUNT, BATCH_SIZE (1000), PUBLISH_RETRIES, PAUSE_MS (0).
 * Prints `published <from> <to>` or `failed <from> <to> <error>` per batch as its promise settles,
 * so a test that kills Redis meanwhile knows which publishes resolved; exits 0 when done.
 */
async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const publisher = await FaultPublisher.open(
    env.REDIS_URL!,
    env.NAMESPACE!,
    env.PUBLISH_RETRIES ? Number(env.PUBLISH_RETRIES) : undefined,
  );
  process.stdout.write('ready\n');
  await publisher.publishTicks(
    Number(env.FROM ?? 0),
    Number(env.COUNT),
    Number(env.BATCH_SIZE ?? 1000),
    (o) =>
      process.stdout.write(
        o.ok ? `published ${o.from} ${o.to}\n` : `failed ${o.from} ${o.to} ${o.error?.replace(/\s+/g, ' ')}\n`,
      ),
    Number(env.PAUSE_MS ?? 0),
  );
  await publisher.close();
}

if (require.main === module) {
  main(process.env).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`publisher failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
