import { Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { EventBusCore, RawSubscriptions } from '@nest-streams/event-bus';
import { EventBusExplorer } from '@nest-streams/event-bus/event-bus.explorer';
import { PartitionedGroup } from '@nest-streams/event-bus/consumer/partitioned-group';

/**
 * Health of the bus: Redis answers in time; every consumer loop of this process (handlers'
 * groups and raw subscriptions; with partitioned streams, the loop of each owned partition) is
 * alive.
 */
@Injectable()
export class EventBusHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly core: EventBusCore,
    private readonly explorer: EventBusExplorer,
    private readonly raw: RawSubscriptions,
  ) {}

  /**
   * Redis answers within `timeoutMs`. On Redis Cluster: the cluster says its state is ok, and the
   * master of every slot range, as the cluster itself lists them (CLUSTER SLOTS), answers PING: a
   * dead master stays down here until a replica took its slots over.
   */
  async redis(timeoutMs: number): Promise<HealthIndicatorResult<'redis'>> {
    const check = this.indicators.check('redis');
    const began = Date.now();
    try {
      if (!this.core.cluster) {
        await within(this.core.redis.ping(), timeoutMs, `no PONG within ${timeoutMs} ms`);
        return check.up({ latencyMs: Date.now() - began });
      }
      const masters = await within(
        this.clusterMasters(timeoutMs),
        timeoutMs,
        `the cluster did not answer within ${timeoutMs} ms`,
      );
      return check.up({ latencyMs: Date.now() - began, masters });
    } catch (error) {
      return check.down({ error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** How many masters hold slots; throws naming the first problem (cluster state, a master that does not answer). */
  private async clusterMasters(timeoutMs: number): Promise<number> {
    const cluster = this.core.redis as unknown as Cluster;
    const info = String(await cluster.cluster('INFO'));
    const state = /cluster_state:(\w+)/.exec(info)?.[1];
    if (state !== 'ok') throw new Error(`the cluster's state is ${state ?? 'unknown'}`);
    const ranges = (await cluster.cluster('SLOTS')) as unknown as Array<
      [number, number, [string, number, ...unknown[]], ...unknown[]]
    >;
    const owners = [...new Set(ranges.map(([, , [host, port]]) => `${host}:${port}`))];
    const nodes = new Map(cluster.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
    await Promise.all(
      owners.map(async (owner) => {
        const node = nodes.get(owner);
        if (!node) throw new Error(`master ${owner} (it holds slots) is unknown to the client`);
        await within(node.ping(), timeoutMs, `master ${owner} did not answer PING within ${timeoutMs} ms`).catch(
          (error: unknown) => {
            throw new Error(`master ${owner}: ${error instanceof Error ? error.message : String(error)}`);
          },
        );
      }),
    );
    return owners.length;
  }

  consumers(): HealthIndicatorResult<'consumers'> {
    const check = this.indicators.check('consumers');
    const loops = [...this.explorer.groups.values(), ...this.raw.subscriptions.values()];
    // NOTE: with partitioned streams each group also lists the partitions this instance owns.
    const groups = loops.map((g) => ({
      group: g.group,
      alive: g.isAlive(),
      inFlight: g.inFlight,
      ...(g instanceof PartitionedGroup ? { partitions: [...g.partitions.keys()].sort((a, b) => a - b) } : {}),
    }));
    const dead = groups.filter((g) => !g.alive).map((g) => g.group);
    return dead.length === 0 ? check.up({ groups }) : check.down({ groups, dead });
  }
}

/** `promise`, or a rejection with `message` after `timeoutMs`. */
async function within<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
