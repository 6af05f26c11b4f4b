import type { EventBusCore, ResolvedTuning } from '../event-bus.core';
import type { HandlerBinding } from './binding';
import { DedupeGuard } from './dedupe.guard';
import { Delivery, Source } from './delivery';
import { DeliveryProcessor } from './delivery-processor';
import { Dispatcher, Pause } from './dispatcher';
import { GroupReader, PartitionScope } from './group-reader';
import { entryIdsOf, stageProbe } from './stage-probe';

export type { ConsumerStats } from './group-reader';

/**
 * One service's consumer in one process, on the shared consumer loop (GroupReader: reads over
 * every stream the group reads and its redrive and replay streams, leases, claims, shutdown):
 * each entry decoded and routed, its event claimed by the dedupe guard per read batch, then
 * dispatched with bounded concurrency and per-subject order to the DeliveryProcessor.
 */
export class GroupConsumer extends GroupReader<Delivery, Source> {
  protected readonly sources: Source[];
  private readonly dispatcher: Dispatcher;
  private readonly processor: DeliveryProcessor;
  /** Batches read and not yet handed to the dispatcher (their claims may be out), oldest first. */
  private readonly unreleased: Array<{ batch: Delivery[]; claimed: boolean }> = [];
  private readonly claimsInFlight = new Set<Promise<void>>();

  /**
   * @param dispatcher the group's dispatcher in this process, shared by its partitions (so
   * `concurrency` bounds the group's handlers in the process, whatever it owns); its own otherwise.
   */
  constructor(
    core: EventBusCore,
    group: string,
    tuning: ResolvedTuning,
    bindings: HandlerBinding[],
    scope?: PartitionScope,
    dispatcher?: Dispatcher,
  ) {
    super(core, group, tuning, scope);
    this.dispatcher = dispatcher ?? new Dispatcher(tuning.concurrency);
    this.processor = new DeliveryProcessor({
      core,
      group,
      consumer: this.consumerName,
      scope,
      tuning,
      bindings,
      acks: this.acks,
      dedupe: tuning.dedupe.enabled ? new DedupeGuard(core.redis, core.keys, tuning.dedupe.ttlMs) : undefined,
      stats: this.stats,
      stopping: this.stopping.signal,
      logger: this.logger,
    });
    const streams = [...new Set(bindings.map((b) => b.stream))];
    const k = scope?.k ?? 0;
    this.sources = streams.flatMap((stream): Source[] => {
      const routes = this.processor.routesFor(stream);
      return [
        { stream, key: core.keys.stream(stream, k), kind: 'live', partition: k, held: new Map(), routes },
        { stream, key: core.keys.redrive(stream, group, k), kind: 'redrive', partition: k, held: new Map(), routes },
        { stream, key: core.keys.replay(stream, group, k), kind: 'replay', partition: k, held: new Map(), routes },
      ];
    });
  }

  protected override startId(source: Source): '0' | '$' {
    return source.kind === 'live' && this.tuning.startFrom === 'new' ? '$' : '0';
  }

  /** Decodes the entry and finds its handlers (a breach is kept for the processor to dead-letter). */
  protected override prepare(source: Source, entryId: string, fields: string[], deliveryCount: number): Delivery {
    return this.processor.prepare(source, entryId, fields, deliveryCount);
  }

  /**
   * Queues a batch for the dispatcher and has the dedupe guard claim its events (one round trip).
   * A batch reaches the dispatcher once claimed, in read order (per-subject order holds).
   */
  protected override dispatch(batch: Delivery[]): void {
    stageProbe.on?.('read', entryIdsOf(batch));
    const begun = this.processor.begin(batch);
    const queued = { batch, claimed: !begun };
    if (!begun) stageProbe.on?.('claimed', entryIdsOf(batch));
    this.unreleased.push(queued);
    if (begun) {
      const settled = begun.then(() => {
        stageProbe.on?.('claimed', entryIdsOf(batch));
        queued.claimed = true;
        this.claimsInFlight.delete(settled);
        this.release();
      });
      this.claimsInFlight.add(settled);
    }
    this.release();
  }

  /** Entries lost at lease renewal: any of them waiting out a retry's backoff gives up the wait. */
  protected override lost(source: Source, entryIds: string[]): void {
    for (const id of entryIds) source.held.get(id)?.abandon?.();
  }

  /**
   * Hands claimed batches to the dispatcher, oldest first. While a non-blocking read is out, they
   * wait for it: its batch's claim then goes out before they run, so the claim's round trip
   * overlaps their handling instead of leaving the process idle between batches.
   */
  protected override release(): void {
    if (this.prefetching) return;
    while (this.unreleased.length > 0 && this.unreleased[0].claimed) {
      const batch = this.unreleased.shift()!.batch;
      stageProbe.on?.('released', entryIdsOf(batch));
      for (const delivery of batch) this.dispatcher.submit(delivery.envelope?.subject, this.run1, delivery);
    }
  }

  /** Waits for the batches still being claimed, hands them over, and waits for every delivery of this consumer. */
  protected override async drain(): Promise<void> {
    while (this.claimsInFlight.size > 0) await Promise.all([...this.claimsInFlight]);
    this.release();
    // NOTE: not dispatcher.idle(): a shared dispatcher also runs the group's other partitions.
    await this.heldBelow(1);
  }

  /** The dispatcher task of one delivery (one function for all, no closure per entry). */
  private readonly run1 = async (pause: Pause, delivery: Delivery): Promise<void> => {
    try {
      await this.processor.process(delivery, pause);
    } finally {
      this.settle(delivery.source, delivery.entryId);
    }
  };
}
