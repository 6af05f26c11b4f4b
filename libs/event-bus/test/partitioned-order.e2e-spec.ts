import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type Redis from 'ioredis';
import { EventBusExplorer } from '@nest-streams/event-bus/event-bus.explorer';
import { EventBusModule, EventPublisher, Subscribe, type EventContext } from '@nest-streams/event-bus';
import { assignPartitions, PartitionedGroup } from '@nest-streams/event-bus/consumer/partitioned-group';
import { ParcelOrdered } from './fixtures/fixture-events';
import { testNamespace, testRedisClient, testRedisUrl, waitFor } from '../../../test/support/redis';

/** One handler run: who ran it, on which partition and lease epoch, and when. */
interface Run {
  instance: string;
  subject: string;
  seq: number;
  partition: number;
  epoch: number;
  start: number;
  end: number;
}

const PARTITIONS = 16;

/**
 * Partitioned streams on one Redis: the instances of a group share 16 partitions, at most one
 * owns a (group, partition) at a time, and a subject's events are handled in stream order across
 * instances, also while instances join and leave (graceful handoff).
 */
describe('partitioned streams: per-subject order across instances', () => {
  let redis: Redis;
  const apps = new Map<string, INestApplication>();

  beforeAll(() => {
    redis = testRedisClient();
  });
  afterEach(async () => {
    await Promise.all([...apps.values()].map((app) => app.close()));
    apps.clear();
  });
  afterAll(async () => {
    await redis.quit();
  });

  async function startInstance(namespace: string, name: string, runs: Run[], handlerMs = 2): Promise<INestApplication> {
    @Injectable()
    class Sorter {
      @Subscribe(ParcelOrdered)
      async sort(parcel: ParcelOrdered, ctx: EventContext): Promise<void> {
        const start = performance.now();
        await new Promise((resolve) => setTimeout(resolve, handlerMs));
        runs.push({
          instance: name,
          subject: parcel.parcelId,
          seq: parcel.weight,
          partition: ctx.partition,
          epoch: ctx.epoch ?? -1,
          start,
          end: performance.now(),
        });
      }
    }
    @Module({ imports: [EventBusModule.forFeature({ group: 'sorting' })], providers: [Sorter] })
    class SortingModule {}
    @Module({
      imports: [
        EventBusModule.forRoot({
          redis: testRedisUrl(),
          namespace,
          consumerName: name,
          partitions: PARTITIONS,
          partitioning: { leaseMs: 2_000, heartbeatMs: 150, sessionTimeoutMs: 1_500 },
          consumer: { blockMs: 200 },
          metrics: false,
          isGlobal: true,
        }),
        SortingModule,
      ],
    })
    class InstanceModule {}
    const app = await NestFactory.create(InstanceModule, {
      logger: process.env.DEBUG_PARTITIONS ? ['error', 'warn', 'log'] : ['error'],
    });
    await app.init();
    apps.set(name, app);
    return app;
  }

  function owned(app: INestApplication): number[] {
    const group = app.get(EventBusExplorer).groups.get('sorting') as PartitionedGroup;
    return [...group.partitions.keys()];
  }

  /** Per subject: starts follow the publish order, no two runs overlap, each event ran once. */
  function checkOrder(runs: Run[], subjects: string[], perSubject: number): void {
    const bySubject = new Map<string, Run[]>();
    for (const r of runs) bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), r]);
    const problems: string[] = [];
    for (const subject of subjects) {
      const list = (bySubject.get(subject) ?? []).sort((a, b) => a.start - b.start);
      const seqs = list.map((r) => r.seq);
      if (seqs.join(',') !== Array.from({ length: perSubject }, (_, i) => i + 1).join(','))
        problems.push(`${subject}: ran ${seqs.join(',')}`);
      for (let i = 1; i < list.length; i++)
        if (list[i].start < list[i - 1].end)
          problems.push(`${subject}: seq ${list[i].seq} started before seq ${list[i - 1].seq} ended`);
    }
    expect(problems).toEqual([]);
  }

  it('assigns every partition to exactly one member, balanced within one, deterministically', () => {
    for (const members of [['a'], ['a', 'b'], ['x', 'y', 'z'], ['m1', 'm2', 'm3', 'm4', 'm5']]) {
      const assignment = assignPartitions(members, PARTITIONS);
      const all = [...assignment.values()].flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: PARTITIONS }, (_, k) => k));
      const loads = [...assignment.values()].map((ks) => ks.length);
      expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
      expect(assignPartitions([...members].reverse(), PARTITIONS)).toEqual(assignment);
    }
  });

  it('spreads the partitions over three instances and keeps each subject in order while one leaves and one joins', async () => {
    const ns = testNamespace('partitioned');
    const runs: Run[] = [];
    const a = await startInstance(ns, 'inst-a', runs);
    await startInstance(ns, 'inst-b', runs);
    await startInstance(ns, 'inst-c', runs);
    await waitFor('16 partitions spread over 3 instances', () => {
      const counts = [...apps.values()].map(owned);
      return counts.every((ks) => ks.length >= 5) && counts.flat().length === PARTITIONS;
    });

    const subjects = Array.from({ length: 60 }, (_, i) => `P-${i}`);
    const perSubject = 30;
    const publisher = a.get(EventPublisher);
    // NOTE: each subject's events are published one after another (its order), subjects side by side.
    const publishing = Promise.all(
      subjects.map(async (subject) => {
        for (let seq = 1; seq <= perSubject; seq++) {
          await publisher.publish(new ParcelOrdered({ parcelId: subject, weight: seq }));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }),
    );
    await waitFor('a fifth of the events handled', () => runs.length >= (subjects.length * perSubject) / 5, 20_000);
    // A graceful leave (handoff: drain, acknowledge, release) and a join, mid-load.
    const leaving = apps.get('inst-b')!;
    apps.delete('inst-b');
    await leaving.close();
    const joiner = await startInstance(ns, 'inst-d', runs);
    await waitFor('the joiner owns its share', () => owned(joiner).length >= 5);
    const handledAtJoin = runs.length;
    await publishing;
    expect(handledAtJoin).toBeLessThan(subjects.length * perSubject);
    await waitFor('every event handled', () => runs.length >= subjects.length * perSubject, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    checkOrder(runs, subjects, perSubject);
    // A graceful handoff redelivers nothing: every event ran exactly once.
    expect(runs.length).toBe(subjects.length * perSubject);
    // Partitions moved to the joiner, and every partition's epochs only grew.
    expect(runs.some((r) => r.instance === 'inst-d')).toBe(true);
    const byPartition = new Map<number, Run[]>();
    for (const r of runs) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
    for (const [partition, list] of byPartition) {
      list.sort((x, y) => x.start - y.start);
      for (let i = 1; i < list.length; i++) {
        expect({ partition, epoch: list[i].epoch >= list[i - 1].epoch }).toEqual({ partition, epoch: true });
        // NOTE: a run of an older epoch never ends after a newer epoch's first run began.
        if (list[i].epoch > list[i - 1].epoch)
          expect(list.filter((r) => r.epoch < list[i].epoch).every((r) => r.end <= list[i].start)).toBe(true);
      }
      expect(list.every((r) => r.partition === partition)).toBe(true);
    }
    // Each subject sits in the partition its key hashes to.
    expect(new Set(runs.filter((r) => r.subject === 'P-7').map((r) => r.partition)).size).toBe(1);
    // Nothing is left pending in any partition.
    const pending = await Promise.all(
      Array.from(
        { length: PARTITIONS },
        (_, k) => redis.xpending(`${ns}:{${ns}/${k}}:{parcels}`, 'sorting') as Promise<[number]>,
      ),
    );
    expect(pending.map((p) => Number(p[0]))).toEqual(Array(PARTITIONS).fill(0));
  }, 90_000);
});
