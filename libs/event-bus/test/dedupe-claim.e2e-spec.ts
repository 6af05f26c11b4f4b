import Redis from 'ioredis';
import { DedupeGuard } from '@nest-streams/event-bus/consumer/dedupe.guard';
import type { ClaimRequest } from '@nest-streams/event-bus/consumer/dedupe.guard';
import { itIf, testKeys, testNamespace, testTopology } from '../../../test/support/redis';

/**
 * The dedupe guard's batch claim on the library's command connection (auto-pipelined, shared
 * with publishes): ioredis keeps one auto-pipeline in flight per connection, and a claim must not
 * wait for it (a read batch waits for its claim before its handlers run).
 */
describe('DedupeGuard claims', () => {
  const standalone = testTopology().redis !== 'cluster';

  itIf(standalone, 'standalone topology')(
    'sends a batch claim at once, while an auto-pipeline is in flight',
    async () => {
      const namespace = testNamespace('claim');
      const keys = testKeys(namespace);
      const redis = new Redis(process.env.REDIS_TEST_URL!, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
      const guard = new DedupeGuard(redis, keys, 60_000);
      try {
        await redis.ping();
        const bucket = guard.bucket('orders', 'g', new Date().toISOString());
        const request: ClaimRequest = {
          bucket,
          envelope: { id: 'evt-1' },
          source: { stream: 'orders', kind: 'live', partition: 0 },
          entryId: '1-0',
          deliveryCount: 1,
        };
        // NOTE: an auto-pipelined command that holds its pipeline in flight for a while.
        const blocked = redis.blpop(`${namespace}:nothing`, 0.3);
        await new Promise((resolve) => setImmediate(resolve));
        const written: string[] = [];
        const stream = (redis as unknown as { stream: { write: (chunk: unknown, ...rest: unknown[]) => boolean } })
          .stream;
        const write = stream.write.bind(stream);
        stream.write = (chunk, ...rest) => {
          written.push(String(chunk));
          return write(chunk, ...rest);
        };
        const claimed = guard.claimMany('g', [request]);
        expect(written.join('')).toContain('evt-1');
        expect(await claimed).toEqual(['run']);
        // NOTE: a copy from another entry: the claim's entry is not pending (no such stream), so handled.
        expect(await guard.claimMany('g', [{ ...request, entryId: '2-0' }])).toEqual(['handled']);
        await blocked;
        await redis.del(bucket.key);
      } finally {
        redis.disconnect();
      }
    },
  );
});
