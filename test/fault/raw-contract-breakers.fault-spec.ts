import { encodeEnvelope } from '@nest-streams/event-bus';
import { testNamespace, waitFor } from '../support/redis';
import { faultKeys } from './fault-events';
import { FaultRedis, killAllWorkers, pendingCount, startWorker, tally, waitDrained } from './harness';
import { tickId } from './publisher';

/** A contract-abiding FaultTick entry as a foreign client would XADD it, with fields overridden (undefined deletes). */
function rawTick(n: number, overrides: Record<string, string | undefined> = {}): string[] {
  const fields = encodeEnvelope({
    specversion: '1.0',
    id: `raw-${n}-${Math.random().toString(36).slice(2)}`,
    type: 'FaultTick',
    version: 1,
    source: 'redis-cli',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: { n, id: tickId(n) },
  });
  const record: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) record[fields[i]] = fields[i + 1];
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete record[name];
    else record[name] = value;
  }
  return Object.entries(record).flat();
}

/**
 * Every way an entry can break docs/contract.md section 1, with the dead-letter reason it must get.
 * Payload n values of breakers are outside the published range, so one reaching the handler
 * shows as `unexpected` in the tally.
 */
const BREAKERS: Array<[reason: string, overrides: Record<string, string | undefined>]> = [
  ['bad-json', { data: '{"n": ' }],
  ['data-not-object', { data: '[1,2]' }],
  ['missing-field', { id: undefined }],
  ['missing-field', { data: undefined }],
  ['bad-specversion', { specversion: '0.3' }],
  ['bad-version', { version: 'two' }],
  ['unknown-version', { version: '9' }],
  ['unknown-type', { type: 'FaultTock' }],
  ['invalid-payload', { data: JSON.stringify({ n: -1, id: 'negative' }) }],
  ['invalid-payload', { data: JSON.stringify({ n: 900_001 }) }],
];

const VALID = 300;

type Letter = Record<string, string>;

async function deadLetters(redis: FaultRedis, namespace: string): Promise<Letter[]> {
  return (await redis.client.xrange(faultKeys(namespace).deadLetters, '-', '+')).map(([, fields]) => {
    const letter: Letter = {};
    for (let i = 0; i + 1 < fields.length; i += 2) letter[fields[i]] = fields[i + 1];
    return letter;
  });
}

describe('fault: entries that break the contract, and handlers that always fail', () => {
  let redis: FaultRedis;

  beforeAll(async () => {
    redis = await FaultRedis.start();
  });
  afterEach(killAllWorkers);
  afterAll(async () => {
    await killAllWorkers();
    await redis?.destroy();
  });

  it('dead-letters each raw breaker with its reason, handles every valid entry around them, leaves nothing pending', async () => {
    const ns = testNamespace('breakers');
    const key = faultKeys(ns).stream;
    const expected = new Map<string, string>(); // entry id -> reason
    // Valid ticks 0..VALID-1 with one breaker after every VALID/BREAKERS valid ones; the first
    // half is in the stream before the consumer starts, the second half arrives while it runs.
    const every = Math.floor(VALID / BREAKERS.length);
    const xaddRange = async (from: number, to: number): Promise<void> => {
      for (let n = from; n < to; n++) {
        await redis.client.xadd(key, '*', ...rawTick(n));
        const breaker = BREAKERS[(n - every / 2) / every];
        if (breaker)
          expected.set(String(await redis.client.xadd(key, '*', ...rawTick(900_000 + n, breaker[1]))), breaker[0]);
      }
    };
    await xaddRange(0, VALID / 2);
    const worker = await startWorker({
      REDIS_URL: redis.url,
      NAMESPACE: ns,
      CONSUMER_NAME: 'w1',
      BATCH_SIZE: 20,
      CONCURRENCY: 8,
    });
    await xaddRange(VALID / 2, VALID);
    expect(expected.size).toBe(BREAKERS.length);

    await waitDrained(redis.client, ns, VALID);
    await waitFor(
      `${BREAKERS.length} dead letters`,
      async () => (await redis.client.xlen(faultKeys(ns).deadLetters)) >= BREAKERS.length,
    );
    const letters = await deadLetters(redis, ns);
    const t = await tally(redis.client, ns, 'raw-contract-breakers', VALID, {
      breakers: BREAKERS.length,
      'dead-lettered': letters.length,
    });

    expect(t.lost).toBe(0);
    expect(t.duplicated).toBe(0);
    expect(t.unexpected).toBe(0);
    expect(await pendingCount(redis.client, ns)).toBe(0);
    expect(Object.fromEntries(letters.map((l) => [l.entryid, l.reason]))).toEqual(Object.fromEntries(expected));
    for (const letter of letters) {
      expect(letter).toMatchObject({ stream: 'ticks', group: 'fault', consumer: 'w1', attempts: '1' });
      expect(letter.error.length).toBeGreaterThan(0);
      expect(JSON.parse(letter.envelope)).toHaveProperty('source', 'redis-cli');
    }
    expect(worker.isAlive).toBe(true);
  }, 60_000);

  it('dead-letters an event whose handler always throws after maxAttempts, with error and attempts, and the rest flows', async () => {
    const ns = testNamespace('poison');
    const key = faultKeys(ns).stream;
    const events = 200;
    const poison = [7, 100];
    const maxAttempts = 3;
    for (let n = 0; n < events; n++) await redis.client.xadd(key, '*', ...rawTick(n));
    await startWorker({
      REDIS_URL: redis.url,
      NAMESPACE: ns,
      CONSUMER_NAME: 'w1',
      BATCH_SIZE: 20,
      CONCURRENCY: 8,
      POISON_IDS: poison.map(tickId).join(','),
      CONSUMER_JSON: JSON.stringify({ retry: { maxAttempts, initialDelayMs: 20, maxDelayMs: 100 } }),
    });

    await waitFor(
      'two dead letters and nothing pending',
      async () =>
        (await redis.client.xlen(faultKeys(ns).deadLetters)) >= poison.length &&
        (await pendingCount(redis.client, ns)) === 0,
      20_000,
    );
    await waitDrained(redis.client, ns, events - poison.length);
    const t = await tally(redis.client, ns, 'poison-handler', events, {
      poison: poison.length,
      'max-attempts': maxAttempts,
    });
    const letters = await deadLetters(redis, ns);

    expect(t.lost).toBe(poison.length);
    expect(t.unexpected).toBe(0);
    expect(t.duplicated).toBe(poison.length * (maxAttempts - 1));
    const deliveries = await redis.client.hgetall(faultKeys(ns).deliveries);
    for (const n of poison) expect(deliveries[n]).toBe(String(maxAttempts));
    expect(letters.map((l) => JSON.parse(l.envelope).data).sort()).toEqual(
      poison.map((n) => JSON.stringify({ n, id: tickId(n) })).sort(),
    );
    for (const letter of letters) {
      expect(letter).toMatchObject({
        reason: 'handler-failed',
        stream: 'ticks',
        group: 'fault',
        handler: 'TickHandler.onTick',
        attempts: String(maxAttempts),
      });
      expect(letter.error).toMatch(/always fails/);
    }
  }, 60_000);
});
