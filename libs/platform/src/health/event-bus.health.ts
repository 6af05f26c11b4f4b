import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { EventBusCore, EventBusExplorer, PartitionedGroup, RawSubscriptions } from '@app/event-bus';

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

  async redis(timeoutMs: number): Promise<HealthIndicatorResult<'redis'>> {
    const check = this.indicators.check('redis');
    const began = Date.now();
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.core.redis.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs))),
      ]).finally(() => clearTimeout(timer));
      return check.up({ latencyMs: Date.now() - began });
    } catch (error) {
      return check.down({ error: error instanceof Error ? error.message : String(error) });
    }
  }

  consumers(): HealthIndicatorResult<'consumers'> {
    const check = this.indicators.check('consumers');
    const loops = [...this.explorer.groups.values(), ...this.raw.subscriptions.values()];
    // NOTE: with partitioned streams each group also lists the partitions this instance owns.
    const groups = loops.map((g) => ({ group: g.group, alive: g.isAlive(), inFlight: g.inFlight, ...(g instanceof PartitionedGroup ? { partitions: [...g.partitions.keys()].sort((a, b) => a - b) } : {}) }));
    const dead = groups.filter((g) => !g.alive).map((g) => g.group);
    return dead.length === 0 ? check.up({ groups }) : check.down({ groups, dead });
  }
}
