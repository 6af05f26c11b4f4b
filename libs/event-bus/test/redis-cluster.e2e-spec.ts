import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Cluster } from 'ioredis';
import { partitionOf, partitionTag } from '@nest-streams/event-bus/utils/partition';
import { RedisCluster } from '../../../test/support/redis-cluster';
import { testNamespace } from '../../../test/support/redis';

/** Whether a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** 2000 subjects: UUIDs, order ids, keys with hash tags, and random strings full of braces. */
function subjects(): string[] {
  const out: string[] = [];
  const alphabet = ['a', 'b', 'Z', '0', '9', '-', ':', '/', '{', '}', '{', '}', 'é', '😀', ' '];
  for (let i = 0; i < 500; i++) out.push(randomUUID());
  for (let i = 0; i < 500; i++) out.push(`ORD-${Math.floor(Math.random() * 1e9)}`);
  for (let i = 0; i < 500; i++) {
    const id = i % 2 ? randomUUID() : `ORD-${i}`;
    out.push([`{${id}}`, `order:{${id}}:lines`, `x{${id}}{y}`, `{}{${id}}`][i % 4]);
  }
  for (let i = 0; i < 500; i++) {
    const len = 1 + Math.floor(Math.random() * 12);
    out.push(Array.from({ length: len }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join(''));
  }
  return out;
}

/** The slot ranges of CLUSTER SLOTS with the port of the master serving each. */
async function slotRanges(client: Cluster): Promise<Array<{ from: number; to: number; port: number }>> {
  const slots = await client.cluster('SLOTS');
  return slots.map(([from, to, master]) => ({ from, to, port: master[1] }));
}

describe('Redis Cluster harness and partitioning (3 masters)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  const ns = testNamespace('cluster');

  beforeAll(async () => {
    const startedAt = Date.now();
    cluster = await RedisCluster.start({ masters: 3 });
    // Typically ~2 s (redis 7.0, node-timeout 1000).
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    client = cluster.client();
  });

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('starts 3 masters that each own a third of the slots', async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.masters).toHaveLength(3);
    expect(cluster.pids).toHaveLength(3);
    expect(cluster.url).toBe(cluster.nodes.map((n) => `redis://127.0.0.1:${n.port}`).join(','));
    expect(cluster.seeds).toEqual(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    const owned = new Map<number, number>();
    for (const { from, to, port } of await slotRanges(client)) owned.set(port, (owned.get(port) ?? 0) + to - from + 1);
    expect([...owned.values()].sort()).toEqual([5461, 5461, 5462]);
  });

  it.each([1, 4, 16, 1024])(
    'partitionOf(s, %d) = CLUSTER KEYSLOT s mod P as the cluster answers it, for 2000 subjects',
    async (p) => {
      const all = subjects();
      const node = cluster.nodeClient(cluster.nodes[0].port);
      try {
        await node.connect();
        const pipeline = node.pipeline();
        for (const s of all) pipeline.cluster('KEYSLOT', s);
        const replies = (await pipeline.exec())!;
        const mismatches = all
          .map((s, i) => ({ s, expected: Number(replies[i][1]) % p, got: partitionOf(s, p), error: replies[i][0] }))
          .filter((m) => m.error || m.got !== m.expected);
        expect(mismatches).toEqual([]);
      } finally {
        node.disconnect();
      }
    },
  );

  it('puts the 16 partition tags {<ns>/<k>} on at least 2 masters', async () => {
    const ranges = await slotRanges(client);
    const ownerOf = (slot: number) => ranges.find(({ from, to }) => slot >= from && slot <= to)!.port;
    const owners = new Map<number, number>();
    for (let k = 0; k < 16; k++) {
      const slot = Number(await client.cluster('KEYSLOT', `{${partitionTag(ns, k)}}`));
      const port = ownerOf(slot);
      owners.set(port, (owners.get(port) ?? 0) + 1);
    }
    expect(owners.size).toBeGreaterThanOrEqual(2);
  });

  it('lets client() XADD and XRANGE on keys of several partitions, and MULTI within one', async () => {
    for (let k = 0; k < 16; k++) {
      const key = `${ns}:{${partitionTag(ns, k)}}:orders`;
      const id = await client.xadd(key, '*', 'k', String(k));
      const range = await client.xrange(key, '-', '+');
      expect(range).toEqual([[id, ['k', String(k)]]]);
    }
    // Keys of one partition share a slot: a transaction across streams of one partition is legal.
    const tag = `{${partitionTag(ns, 5)}}`;
    const result = await client
      .multi()
      .xadd(`${ns}:${tag}:payments`, '*', 'a', '1')
      .xadd(`${ns}:${tag}:payments:dlq`, '*', 'b', '2')
      .exec();
    expect(result?.map(([error]) => error)).toEqual([null, null]);
    expect(await client.xlen(`${ns}:${tag}:payments:dlq`)).toBe(1);
  });

  it('kill(port) SIGKILLs one node; destroy() leaves none of its pids alive and removes its dir', async () => {
    const pids = cluster.pids;
    expect(pids.every(alive)).toBe(true);
    const victim = cluster.nodes[2];
    await cluster.kill(victim.port);
    expect(alive(victim.pid!)).toBe(false);
    expect(cluster.pids).toEqual(pids.filter((pid) => pid !== victim.pid));

    await cluster.destroy();
    expect(pids.filter(alive)).toEqual([]);
    expect(cluster.pids).toEqual([]);
    expect(existsSync(cluster.dir)).toBe(false);
  });
});
