import type Redis from 'ioredis';
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { EventStore, handleCommand, SnapshotAheadOfStreamError, toStreamName } from '@nest-streams/event-store';
import { testNamespace, testRedisClient, testRedisUrl, waitFor } from '../../../test/support/redis';
import { randomCommand, seeded, tallyDecider, TallyState } from './fixtures/tally.decider';

/** A store whose process "dies" right after appending: the snapshot write never happens. */
class DiesBeforeSnapshotStore extends EventStore {
  snapshotAttempts = 0;
  override async writeSnapshot(): Promise<never> {
    this.snapshotAttempts++;
    throw new Error('process killed between the append and the snapshot write');
  }
}

describe('snapshots (real Redis)', () => {
  let redis: Redis;
  let store: EventStore;
  let namespace: string;

  beforeAll(() => {
    redis = testRedisClient();
    namespace = testNamespace('es-snap');
    store = new EventStore(redis, { namespace });
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('snapshot + tail equals a full replay over 200 seeded random histories, snapshot every N in {1, 3, 10}', async () => {
    const replay = tallyDecider();
    let snapshotsUsed = 0;
    let checks = 0;
    const runHistory = async (seed: number, every: number): Promise<void> => {
      const random = seeded(seed * 31 + every);
      const decider = tallyDecider({ every });
      const name = toStreamName('Tally', `h${seed}-n${every}`);
      const commands = Math.floor(random() * 40);
      for (let i = 0; i < commands; i++) await handleCommand(store, name, decider, randomCommand(random));

      const full = await store.load(name, replay);
      const fast = await store.load(name, decider);
      expect({ seed, every, state: fast.state, version: fast.version }).toEqual({
        seed,
        every,
        state: full.state,
        version: full.version,
      });
      if (full.version >= every) {
        // NOTE: the snapshot is usable and the tail is shorter than N events.
        expect(fast.snapshotVersion).toBeDefined();
        expect(fast.eventsApplied).toBeLessThan(every + 8);
        snapshotsUsed++;
      }
      // As of earlier versions: a snapshot past the version asked is not used.
      for (let k = 0; k < 3 && full.version > 0; k++) {
        const asOfVersion = Math.floor(random() * (full.version + 1));
        const a = await store.load(name, decider, { asOfVersion });
        const b = await store.load(name, replay, { asOfVersion });
        expect({ seed, every, asOfVersion, state: a.state, version: a.version }).toEqual({
          seed,
          every,
          asOfVersion,
          state: b.state,
          version: b.version,
        });
        checks++;
      }
      const snapshot = await store.readSnapshot(name);
      if (snapshot) {
        expect(snapshot.version).toBeLessThanOrEqual(full.version);
        expect(snapshot.state).toEqual((await store.load(name, replay, { asOfVersion: snapshot.version })).state);
      }
    };
    const jobs: Array<() => Promise<void>> = [];
    for (let seed = 1; seed <= 200; seed++) for (const every of [1, 3, 10]) jobs.push(() => runHistory(seed, every));
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < jobs.length) await jobs[next++]();
      }),
    );
    expect(snapshotsUsed).toBeGreaterThan(400);
    expect(checks).toBeGreaterThan(1000);
  }, 120_000);

  it('a crash between appending events and writing a snapshot never leaves a snapshot ahead of its stream', async () => {
    const decider = tallyDecider({ every: 3 });
    const name = toStreamName('Tally', 'crash');
    for (let i = 0; i < 3; i++) await handleCommand(store, name, decider, { type: 'Add', amount: 10 });
    expect(await store.readSnapshot(name)).toMatchObject({ version: 3, state: { total: 30 } });

    // The process dies after its append, before its snapshot: the command's events stand, no snapshot moves.
    const dying = new DiesBeforeSnapshotStore(redis, { namespace });
    for (let i = 0; i < 3; i++) {
      const result = await handleCommand(dying, name, decider, { type: 'Add', amount: 1 });
      expect(result.snapshot).toBe(i === 2 ? 'failed' : undefined);
    }
    expect(dying.snapshotAttempts).toBe(1);
    expect(await store.version(name)).toBe(6);
    expect(await store.readSnapshot(name)).toMatchObject({ version: 3, state: { total: 30 } });
    expect(await store.load(name, decider)).toMatchObject({
      version: 6,
      snapshotVersion: 3,
      eventsApplied: 3,
      state: { total: 33 },
    });

    // The next command after the restart writes the overdue snapshot.
    const next = await handleCommand(store, name, decider, { type: 'Add', amount: 1 });
    expect(next.snapshot).toBe('written');
    expect(await store.readSnapshot(name)).toMatchObject({ version: 7, state: { total: 34 } });

    // A snapshot claiming a version the stream has not reached is refused, and nothing changes.
    const refused = await store
      .writeSnapshot(name, { state: { total: 999 }, version: 8, schemaVersion: 1 })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SnapshotAheadOfStreamError);
    expect(refused).toMatchObject({ name: 'SnapshotAheadOfStreamError', snapshotVersion: 8, streamVersion: 7 });
    await expect(
      store.writeSnapshot(toStreamName('Tally', 'never-written'), { state: {}, version: 1, schemaVersion: 1 }),
    ).rejects.toBeInstanceOf(SnapshotAheadOfStreamError);
    expect(await redis.exists(store.keys.snapshot(toStreamName('Tally', 'never-written')))).toBe(0);
    expect(await store.readSnapshot(name)).toMatchObject({ version: 7, state: { total: 34 } });

    // An older snapshot never replaces a newer one of the same schema.
    expect(await store.writeSnapshot(name, { state: { total: 0 }, version: 5, schemaVersion: 1 })).toBe('kept');
    expect(await store.readSnapshot(name)).toMatchObject({ version: 7, state: { total: 34 } });
  });

  it('SIGKILLed while writing events and snapshots: the snapshot is never ahead of the stream and always equals a replay', async () => {
    const name = toStreamName('Tally', 'killed');
    const worker = startWorker(namespace, name);
    try {
      await waitFor('the worker to append 300 events', async () => (await store.version(name)) >= 300, 30_000);
    } finally {
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
    }
    const version = await store.version(name);
    const snapshot = await store.readSnapshot(name);
    expect(snapshot).toBeDefined();
    expect(snapshot!.version).toBeLessThanOrEqual(version);
    const replay = tallyDecider();
    expect(snapshot!.state).toEqual((await store.load(name, replay, { asOfVersion: snapshot!.version })).state);
    expect((await store.load(name, tallyDecider({ every: 1 }))).state).toEqual((await store.load(name, replay)).state);
  }, 60_000);

  it('ignores a snapshot of another schema version, and rebuilds it on the next save', async () => {
    const name = toStreamName('Tally', 'schema');
    const v1 = tallyDecider({ every: 5, schemaVersion: 1 });
    for (let i = 1; i <= 12; i++) await handleCommand(store, name, v1, { type: 'Add', amount: i });
    expect(await store.readSnapshot(name)).toMatchObject({ version: 10, schemaVersion: 1 });

    // v2 keeps its total in cents: a v1 snapshot would be read as the wrong shape.
    const v2 = {
      initialState: () => ({ cents: 0, events: 0 }),
      evolve: (state: { cents: number; events: number }, event: { type: string; data: object }) =>
        event.type === 'Added'
          ? { cents: state.cents + 100 * (event.data as { amount: number }).amount, events: state.events + 1 }
          : { ...state, events: state.events + 1 },
      decide: () => [{ type: 'Added' as const, data: { amount: 1 } }],
      snapshot: { every: 5, schemaVersion: 2 },
    };
    const loaded = await store.load(name, v2);
    expect(loaded).toMatchObject({
      version: 12,
      snapshotVersion: undefined,
      eventsApplied: 12,
      state: { cents: 7800, events: 12 },
    });

    const result = await handleCommand(store, name, v2, { type: 'Add', amount: 1 });
    expect(result.snapshot).toBe('written');
    expect(await store.readSnapshot(name)).toMatchObject({
      version: 13,
      schemaVersion: 2,
      state: { cents: 7900, events: 13 },
    });
    expect(await store.load(name, v2)).toMatchObject({ snapshotVersion: 13, eventsApplied: 0, state: { cents: 7900 } });

    // And the old code, meeting a snapshot it does not know, replays instead of misreading it.
    const back: { state: TallyState; snapshotVersion?: number } = await store.load(name, v1);
    expect(back.snapshotVersion).toBeUndefined();
    expect(back.state.total).toBe(79);
  });
});

function startWorker(namespace: string, streamName: string): ChildProcess {
  const root = resolve(__dirname, '../../..');
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      resolve(__dirname, 'fixtures/snapshot-writer.ts'),
    ],
    {
      cwd: root,
      env: { ...process.env, REDIS_URL: testRedisUrl(), ES_NAMESPACE: namespace, ES_STREAM: streamName },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return child;
}
