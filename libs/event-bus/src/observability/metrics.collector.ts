import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventBusCore } from '../event-bus.core';
import { EventBusExplorer } from '../event-bus.explorer';
import { StreamGauges, streamGauges } from './stream-gauges';
import { readStreamStats, StreamStats } from './stream-stats';

/** How long a scrape waits for Redis before it reports without the stream gauges. */
const SCRAPE_TIMEOUT_MS = 1_000;

/**
 * Scrape-time gauges from Redis (`<prefix>stream_length`, `dead_letters`, `group_pending`,
 * `group_lag`) for every stream this process's handlers read, and every group on those streams.
 * While Redis does not answer, a scrape leaves these gauges out instead of failing.
 */
@Injectable()
export class EventBusMetricsCollector implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EventBusMetricsCollector.name);
  private gauges?: StreamGauges;
  private failing = false;

  constructor(
    private readonly core: EventBusCore,
    private readonly explorer: EventBusExplorer,
  ) {}

  onModuleInit(): void {
    if (!this.core.metrics) return;
    this.gauges = streamGauges(this.core.metrics.registry, this.core.metrics.prefix);
    this.gauges.samplers.add(this.sample);
  }

  onModuleDestroy(): void {
    this.gauges?.samplers.delete(this.sample);
  }

  /** Stats of the streams this process subscribes to; none while Redis does not answer (logged once per outage). */
  readonly sample = async (): Promise<StreamStats[]> => {
    const streams = [...new Set(this.explorer.subscriptions.map((s) => s.stream))];
    const began = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!(await this.core.writable(SCRAPE_TIMEOUT_MS)))
        throw new Error(`not reachable within ${SCRAPE_TIMEOUT_MS} ms`);
      const left = Math.max(1, SCRAPE_TIMEOUT_MS - (Date.now() - began));
      const stats = await Promise.race([
        readStreamStats(this.core.redis, this.core.keys, streams),
        new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(() => reject(new Error(`no answer within ${SCRAPE_TIMEOUT_MS} ms`)), left)),
        ),
      ]);
      if (this.failing) this.logger.log('Redis answers again: stream gauges are back');
      this.failing = false;
      return stats;
    } catch (error) {
      if (!this.failing)
        this.logger.warn(
          `stream gauges left out of the scrape, Redis failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      this.failing = true;
      return [];
    } finally {
      clearTimeout(timer);
    }
  };
}
