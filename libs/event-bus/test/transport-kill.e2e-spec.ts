import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type Redis from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { ClientRedisStreams } from '@nest-streams/event-bus/transport';
import { RedisStreamsRecord } from '@nest-streams/event-bus/transport';
import { transportClient, workerKeys } from './fixtures/transport-service';
import {
  pendingCount,
  testNamespace,
  testPartitions,
  testRedisClient,
  testRedisUrl,
  waitFor,
} from '../../../test/support/redis';

const ROOT = resolve(__dirname, '../../..');
const WORKER = resolve(__dirname, 'fixtures/transport-worker.ts');

/** A transport service instance in a child process. */
class Worker {
  output = '';
  private readonly exited: Promise<void>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    this.exited = new Promise((r) => child.once('exit', () => r()));
  }

  static start(env: Record<string, string>): Worker {
    return new Worker(
      spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', WORKER], {
        cwd: ROOT,
        env: { ...process.env, ...env, TS_NODE_PROJECT: resolve(ROOT, 'tsconfig.json') },
        stdio: 'pipe',
      }),
    );
  }

  async ready(): Promise<void> {
    await waitFor(`worker ready:\n${this.output}`, () => this.output.includes('ready\n'), 60_000);
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Closes its stdin: it drains and exits. */
  async stop(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}

describe('ServerRedisStreams: a SIGKILLed instance', () => {
  let redis: Redis;
  const workers: Worker[] = [];

  beforeAll(() => {
    redis = testRedisClient();
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await redis.quit();
  });

  it('its events, in flight or not yet read, are handled by another instance: every job done, none lost, repeats only of what the dead one ran', async () => {
    const namespace = testNamespace('transport-kill');
    const keys = workerKeys(namespace);
    const env = {
      REDIS_URL: testRedisUrl(),
      NAMESPACE: namespace,
      GROUP: 'jobs',
      PARTITIONS: String(testPartitions()),
      HANDLER_DELAY_MS: '150',
    };
    const doomed = Worker.start({ ...env, INSTANCE: 'doomed' });
    workers.push(doomed);
    await doomed.ready();

    const client = transportClient(testRedisUrl(), namespace, testPartitions());
    const ids = Array.from({ length: 60 }, (_, i) => `job${i}`);
    for (const id of ids) await lastValueFrom(client.emit('job', new RedisStreamsRecord({ id }, { subject: id })));
    await client.close();

    // NOTE: killed while handlers run: some jobs done, some started and unfinished, the rest unread or unstarted.
    await waitFor('some jobs done', async () => (await redis.hlen(keys.done)) >= 8, 20_000);
    await doomed.kill();
    const startedByDoomed = new Set(Object.keys(await redis.hgetall(keys.started)));
    const doneByDoomed = new Set(Object.keys(await redis.hgetall(keys.done)));
    const inFlight = [...startedByDoomed].filter((id) => !doneByDoomed.has(id));
    expect(inFlight.length).toBeGreaterThan(0);
    expect(doneByDoomed.size).toBeLessThan(ids.length);

    const survivor = Worker.start({ ...env, INSTANCE: 'survivor' });
    workers.push(survivor);
    await survivor.ready();
    await waitFor('every job done', async () => (await redis.hlen(keys.done)) === ids.length, 30_000);
    await waitFor('nothing pending', async () => (await pendingCount(redis, namespace, 'job', 'jobs')) === 0, 10_000);
    await survivor.stop();

    const done = await redis.hgetall(keys.done);
    expect(Object.keys(done).sort()).toEqual([...ids].sort());
    const runs = (await redis.lrange(keys.runs, 0, -1)).map((line) => {
      const [instance, id, deliveryCount] = line.split(' ');
      return { instance, id, deliveryCount: Number(deliveryCount) };
    });
    // NOTE: at least once: a job runs twice only if the dead instance had finished it without its acknowledgement landing.
    const repeated = ids.filter((id) => Number(done[id]) > 1);
    for (const id of repeated) expect(doneByDoomed.has(id)).toBe(true);
    for (const id of ids.filter((id) => !doneByDoomed.has(id)))
      expect(runs.filter((r) => r.id === id).map((r) => r.instance)).toEqual(['survivor']);
    // NOTE: the jobs the dead instance was running were claimed from it: their delivery count says so.
    for (const id of inFlight) expect(runs.find((r) => r.id === id)!.deliveryCount).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('its requests, running or waiting, are answered by another instance while their callers still wait', async () => {
    const namespace = testNamespace('transport-kill-rpc');
    const keys = workerKeys(namespace);
    const env = {
      REDIS_URL: testRedisUrl(),
      NAMESPACE: namespace,
      GROUP: 'answers',
      PARTITIONS: String(testPartitions()),
    };
    // NOTE: the doomed instance never finishes a request: everything it took must move.
    const doomed = Worker.start({ ...env, INSTANCE: 'doomed', HANDLER_DELAY_MS: '60000' });
    workers.push(doomed);
    await doomed.ready();
    const client = new ClientRedisStreams({
      redis: testRedisUrl(),
      namespace,
      partitions: testPartitions(),
      requestTimeoutMs: 30_000,
    });
    const ids = Array.from({ length: 6 }, (_, i) => `q${i}`);
    const answers = Promise.all(ids.map((id) => lastValueFrom(client.send<string>('job.answer', { id }))));
    await waitFor('the doomed instance runs requests', async () => (await redis.hlen(keys.started)) >= 4, 20_000);
    await doomed.kill();
    const survivor = Worker.start({ ...env, INSTANCE: 'survivor', HANDLER_DELAY_MS: '10' });
    workers.push(survivor);
    await survivor.ready();
    expect(await answers).toEqual(ids.map((id) => `survivor answers ${id}`));
    await waitFor(
      'nothing pending',
      async () => (await pendingCount(redis, namespace, 'rpc.job.answer', 'answers')) === 0,
    );
    await client.close();
    await survivor.stop();
  }, 90_000);
});
