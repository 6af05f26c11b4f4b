/**
 * Fault 4: "SIGKILL redis-server (appendfsync always) while publishing 10k events, restart it:
 * every publish that resolved is in the stream and gets processed; 0 lost."
 *
 * What it tries: a publisher child process publishes ticks 0..9,999 in publishMany batches and
 * prints, per batch, whether its promise resolved or rejected (PublishFailedError). Once a few
 * thousand have resolved, redis-server is SIGKILLed (no shutdown, no flush), left down for
 * DOWN_MS while the publisher keeps going (those batches fail), then restarted on the same port
 * and directory, where it reads its append-only file back; the publisher goes on to the end.
 * Then a consumer processes the stream. Checked:
 * - every tick of a resolved batch is in the stream (the AOF kept every acknowledged write);
 * - every tick in the stream, resolved or not, is processed; none is lost; nothing stays pending;
 * - ticks of failed batches are counted apart: they may or may not have landed;
 * - no tick is in the stream twice (a write unanswered when the connection dropped is searched
 *   for after reconnecting, never resent blindly).
 * The tally's `published` is what is in the stream (resolved + failed-but-landed).
 */
import { testNamespace, waitFor } from '../support/redis';
import { faultKeys } from './fault-events';
import { FaultRedis, killAllWorkers, pendingCount, sleep, startPublisher, startWorker, tally } from './harness';

const EVENTS = 10_000;
const BATCH_SIZE = 100;
/** Paces the publisher (per batch) so the crash lands mid-way on any machine. */
const PAUSE_MS = 5;
/** Crash once this many ticks were acknowledged. */
const CRASH_AFTER = 4_000;
/** How long redis-server stays dead. */
const DOWN_MS = 1_500;

/** Parses the publisher's `published <from> <to>` / `failed <from> <to> <error>` lines. */
function outcomes(stdout: string): { resolved: Set<number>; failed: Set<number>; errors: string[] } {
  const resolved = new Set<number>();
  const failed = new Set<number>();
  const errors: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^(published|failed) (\d+) (\d+)(?: (.*))?$/.exec(line);
    if (!match) continue;
    const into = match[1] === 'published' ? resolved : failed;
    for (let n = Number(match[2]); n < Number(match[3]); n++) into.add(n);
    if (match[4]) errors.push(match[4]);
  }
  return { resolved, failed, errors };
}

/** How many entries the stream holds per tick n. */
async function entriesPerTick(redis: FaultRedis, namespace: string): Promise<Map<number, number>> {
  const perTick = new Map<number, number>();
  let start = '-';
  for (;;) {
    const page = await redis.client.xrange(faultKeys(namespace).stream, start, '+', 'COUNT', 1000);
    for (const [, fields] of page) {
      const n = (JSON.parse(fields[fields.indexOf('data') + 1]) as { n: number }).n;
      perTick.set(n, (perTick.get(n) ?? 0) + 1);
    }
    if (page.length < 1000) return perTick;
    start = `(${page[page.length - 1][0]}`;
  }
}

describe('fault 4: redis-server SIGKILLed while publishing', () => {
  let redis: FaultRedis;

  beforeAll(async () => {
    redis = await FaultRedis.start();
  });
  afterEach(killAllWorkers);
  afterAll(async () => {
    await killAllWorkers();
    await redis?.destroy();
  });

  it('SIGKILL redis-server (appendfsync always) while publishing 10k events, restart it: every publish that resolved is in the stream and gets processed; 0 lost.', async () => {
    const began = Date.now();
    const ns = testNamespace('crash-pub');
    const publisher = await startPublisher({
      REDIS_URL: redis.url,
      NAMESPACE: ns,
      COUNT: EVENTS,
      BATCH_SIZE,
      PAUSE_MS,
    });

    await waitFor(
      `${CRASH_AFTER} ticks acknowledged`,
      () => outcomes(publisher.stdout).resolved.size >= CRASH_AFTER,
      30_000,
    );
    await redis.server.kill();
    const atCrash = outcomes(publisher.stdout).resolved.size;
    await sleep(DOWN_MS);
    await redis.server.boot();
    const exit = await publisher.waitForExit(30_000);
    expect({ exit, stderr: publisher.stderr }).toEqual({ exit: { code: 0, signal: null }, stderr: '' });

    const { resolved, failed, errors } = outcomes(publisher.stdout);
    // Every batch settled one way or the other, and the crash landed mid-way.
    expect(resolved.size + failed.size).toBe(EVENTS);
    expect(atCrash).toBeLessThan(EVENTS);
    expect(resolved.size).toBeGreaterThan(atCrash);
    for (const error of errors) expect(error).toMatch(/^PublishFailedError: /);

    const inStream = await entriesPerTick(redis, ns);
    const missing = [...resolved].filter((n) => !inStream.has(n));
    expect(missing).toEqual([]);
    expect([...inStream].filter(([, count]) => count > 1).map(([n]) => n)).toEqual([]);
    const landed = new Set([...inStream.keys()]);
    const failedLanded = [...failed].filter((n) => landed.has(n)).length;

    await startWorker({ REDIS_URL: redis.url, NAMESPACE: ns, CONSUMER_NAME: 'w1', BATCH_SIZE: 200, CONCURRENCY: 32 });
    await waitFor(
      'every tick in the stream processed and nothing pending',
      async () =>
        (await redis.client.hlen(faultKeys(ns).effects)) >= landed.size && (await pendingCount(redis.client, ns)) === 0,
      30_000,
    );
    const t = await tally(redis.client, ns, 'redis-crash-while-publishing', landed, {
      resolved: resolved.size,
      'resolved-at-crash': atCrash,
      'resolved-missing': missing.length,
      failed: failed.size,
      'failed-landed': failedLanded,
      'stream-entries': [...inStream.values()].reduce((a, b) => a + b, 0),
      'down-ms': DOWN_MS,
      seconds: ((Date.now() - began) / 1000).toFixed(1),
    });

    expect(t.lost).toBe(0);
    expect(t.unexpected).toBe(0);
    // Only the ticks the publisher tried are in the stream.
    for (const n of landed) expect(n >= 0 && n < EVENTS).toBe(true);
    if (t.viaCommit) expect(t.effectsAppliedTwice).toBe(0);
    expect(await pendingCount(redis.client, ns)).toBe(0);
  }, 60_000);
});
