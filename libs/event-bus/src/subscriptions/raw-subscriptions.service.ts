import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { RawBatchConsumer } from '../consumer/raw-batch-consumer';
import { GroupRunner, PartitionedGroup } from '../consumer/partitioned-group';
import { EventBusCore } from '../event-bus.core';
import { EventBusExplorer } from '../event-bus.explorer';
import { assertName } from '../utils/names';
import type { RawSubscription, RawSubscriptionOptions } from './raw-subscription.interface';
import { GROUP_TAKEN, NO_RAW_STREAMS } from './raw-subscription.messages';

/**
 * Raw subscriptions: a consumer group that receives every entry of a set of streams (and, on
 * request, their dead letters) as batches, for observers that need no contract class (indexers,
 * audit taps, exporters). The same consumer loop as `@Subscribe`: acknowledgement after the
 * handler, claiming of what dead consumers left, leases, recreation of vanished groups, graceful
 * shutdown. Entries are not decoded, validated or deduplicated.
 *
 * ```ts
 * const subscription = await rawSubscriptions.subscribe({
 *   group: 'audit-tap', streams: ['orders', 'payments'], deadLetters: true,
 *   handle: async (batch) => { for (const entry of batch) await archive(entry) },
 * });
 * await subscription.stop(); // also stopped at application shutdown
 * ```
 */
@Injectable()
export class RawSubscriptions implements BeforeApplicationShutdown {
  private readonly logger = new Logger('EventBus');
  private readonly consumers = new Map<string, GroupRunner>();

  constructor(
    private readonly core: EventBusCore,
    private readonly explorer: EventBusExplorer,
  ) {}

  /** The subscriptions started in this application, by group (running or stopping). */
  get subscriptions(): ReadonlyMap<string, RawSubscription> {
    return this.consumers;
  }

  /**
   * Creates the group on every key it reads where it does not exist yet (`startFrom`), then
   * starts reading; resolves once reading has begun. Works whatever the module's `consume`
   * option: a subscription is asked for explicitly.
   */
  async subscribe(options: RawSubscriptionOptions): Promise<RawSubscription> {
    const { group, streams } = options;
    assertName('consumer group', group);
    if (streams.length === 0) throw new Error(NO_RAW_STREAMS(group));
    if (this.explorer.groups.has(group)) throw new Error(GROUP_TAKEN(group, '@Subscribe handlers'));
    const previous = this.consumers.get(group);
    if (previous?.isRunning) throw new Error(GROUP_TAKEN(group, 'a raw subscription'));
    // NOTE: one that is stopping still holds entries under this consumer name: let it finish first.
    await previous?.stop();
    const tuning = this.core.tuning({ ...options.consumer, startFrom: options.startFrom });
    const spec = { streams: [...new Set(streams)], deadLetters: options.deadLetters ?? false, handle: options.handle };
    const consumer: GroupRunner = this.core.keys.partitioned
      ? new PartitionedGroup(
          this.core,
          group,
          tuning,
          (scope) => new RawBatchConsumer(this.core, group, tuning, spec, scope),
        )
      : new RawBatchConsumer(this.core, group, tuning, spec);
    this.consumers.set(group, consumer);
    try {
      await consumer.start();
    } catch (error) {
      if (this.consumers.get(group) === consumer) this.consumers.delete(group);
      throw error;
    }
    this.logger.log(
      `raw subscription <- ${streams.join(', ')}${options.deadLetters ? ' (and their dead letters)' : ''} [group ${group}]`,
    );
    return consumer;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.stop()));
    this.consumers.clear();
  }
}
