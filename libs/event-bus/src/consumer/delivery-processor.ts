import type { Logger } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { contractRegistry } from '../contracts/contract-registry';
import { runInDeliveryContext } from '../context/delivery-context';
import { deadLetter } from '../dead-letter/dead-letter.writer';
import { decodeEnvelope } from '../envelope/envelope';
import { ContractViolationError } from '../errors/contract-violation.error';
import type { EventBusCore, ResolvedTuning } from '../event-bus.core';
import type { CommitOptions, EventContext } from '../interfaces/event-context.interface';
import type { RouteInstruments } from '../observability/metrics';
import { inConsumeSpan, tracingActive } from '../observability/tracing';
import { createPayloadValidator } from '../validation/payload-validator';
import { upcastToNewest } from '../versioning/upcast';
import type { AckBatcher } from './ack-batcher';
import type { HandlerBinding } from './binding';
import { queueHandled } from './dedupe.guard';
import type { ClaimVerdict, DedupeGuard } from './dedupe.guard';
import { BYPASS_DEDUPE_FIELD, Delivery, Route, Source } from './delivery';
import type { Pause } from './dispatcher';
import type { ConsumerStats } from './group-reader';
import type { PartitionScope } from './group-reader';
import type { PublishedEvent } from '../publisher/event-publisher';
import { FencedError } from '../errors/fenced.error';
import { CrossSlotTransactionError } from '../errors/cross-slot-transaction.error';
import { queuedKeys } from '../publisher/transaction-batcher';
import { keySlotOf } from '../utils/partition';
import type { ConsumerScripts } from './consumer-scripts';
import { UnrecoverableError } from '../errors/unrecoverable.error';
import { backoffDelay, isRetryable, resolveRetryPolicy, ResolvedRetryPolicy } from './retry-policy';
import { abortableSleep } from '../utils/abortable-sleep';
import { stageProbe } from './stage-probe';

export interface ProcessorDeps {
  core: EventBusCore;
  group: string;
  /** The consumer name it reads as: the instance's, or `p<k>` for a partition. */
  consumer: string;
  tuning: ResolvedTuning;
  bindings: HandlerBinding[];
  acks: AckBatcher;
  dedupe?: DedupeGuard;
  stats: ConsumerStats;
  stopping: AbortSignal;
  logger: Logger;
  /** The partition worked on, in a partitioned group: no new work once its lease is lost; settles are fenced. */
  scope?: PartitionScope;
}

type Failure = { error: unknown; binding?: HandlerBinding };

/**
 * What happens to one delivery: contract checks (dead letter at once on a breach), the dedupe
 * guard, the handlers, retries with backoff while the slot is lent to other entries, and
 * finally an acknowledgement or a dead letter.
 */
export class DeliveryProcessor {
  readonly acks: AckBatcher;
  private readonly routes = new Map<string, Map<string, Route>>();
  private readonly policies = new Map<HandlerBinding, ResolvedRetryPolicy>();

  constructor(private readonly deps: ProcessorDeps) {
    this.acks = deps.acks;
    for (const binding of deps.bindings) {
      const byType = this.routes.get(binding.stream) ?? new Map<string, Route>();
      const route = byType.get(binding.type) ?? { type: binding.type, bindings: [], names: '', validate: false };
      route.bindings.push(binding);
      route.names = route.bindings.map((b) => b.name).join(', ');
      route.validate ||= binding.validate;
      byType.set(binding.type, route);
      this.routes.set(binding.stream, byType);
      this.policies.set(binding, resolveRetryPolicy(deps.tuning.retry, binding.retry));
      // NOTE: resolved up front so every (stream, type, group) the group handles shows at 0 from boot.
      route.instruments ??= deps.core.metrics?.forRoute(binding.stream, binding.type, deps.group);
    }
  }

  /** The group's handlers for `stream`, by event type. */
  routesFor(stream: string): Map<string, Route> {
    return this.routes.get(stream) ?? new Map();
  }

  /** Decodes an entry and finds its handlers; a breach is kept for `process` to dead-letter. */
  prepare(source: Source, entryId: string, fields: string[], deliveryCount: number): Delivery {
    const delivery: Delivery = { source, entryId, fields, deliveryCount };
    try {
      const envelope = (delivery.envelope = decodeEnvelope(fields));
      delivery.route = source.routes.get(envelope.type);
      if (delivery.route && this.deps.dedupe && !(source.kind === 'replay' && fields.includes(BYPASS_DEDUPE_FIELD)))
        delivery.bucket = this.deps.dedupe.bucket(source.stream, this.deps.group, envelope.time, source.partition);
    } catch (error) {
      delivery.breach = error;
    }
    return delivery;
  }

  /** Claims the events of a read batch in one round trip, before dispatch; undefined when there is nothing to claim. */
  begin(deliveries: Delivery[]): Promise<void> | undefined {
    const guarded = deliveries.filter((d) => d.bucket);
    if (!this.deps.dedupe || guarded.length === 0) return undefined;
    return this.claimBatch(guarded);
  }

  private async claimBatch(guarded: Delivery[]): Promise<void> {
    try {
      const verdicts = await this.deps.dedupe!.claimMany(this.deps.group, guarded);
      guarded.forEach((d, i) => (d.claim = verdicts[i]));
    } catch (error) {
      // NOTE: each delivery claims its event on its own in attempt().
      this.deps.logger.warn(`[group ${this.deps.group}] dedupe claim failed for a batch: ${String(error)}`);
    }
  }

  // NOTE: process() and handle() are not async: each async layer is a promise (and its hooks,
  // under AsyncLocalStorage) per delivery; what they return is the promise of the step they end in.
  process(d: Delivery, pause: Pause): Promise<void> | void {
    if (this.blocked.size > 0 && this.behindUnrun(d)) return;
    // NOTE: the partition's lease is lost (or about to expire unrenewed): the entry stays pending for the next owner.
    if (this.deps.scope && !this.deps.scope.valid()) return this.leftPending(d);
    this.instruments(d).delivered();
    if (!d.envelope) return this.toDeadLetter(d, d.breach, '-');
    // NOTE: everything from here runs in the delivery's context: the handlers' publishes inherit
    // correlation, and every log line (handlers', retries', dead letters') can carry the event.
    const context = this.context(d, d.route?.bindings.length ?? 0);
    return runInDeliveryContext(context, () => this.handle(d, context, pause));
  }

  /**
   * Per (read key, subject), the first entry left pending without having run (a failed claim, a
   * stop, a lost lease): later entries of that subject are left pending too, until it comes back
   * (claimed again, or read back by the partition's next owner) and runs first. So an entry left
   * behind is never overtaken by its successors.
   */
  private readonly blocked = new Map<string, { entryId: string; at: number }>();

  /** The entry stays pending without running: its subject's later entries wait for it. */
  private leftPending(d: Delivery): void {
    const subject = d.envelope?.subject;
    if (subject === undefined) return;
    const key = `${d.source.key}\n${subject}`;
    if (!this.blocked.has(key)) this.blocked.set(key, { entryId: d.entryId, at: Date.now() });
  }

  /** True when an earlier entry of `d`'s subject was left unrun (then `d` is left pending too); clears the block when `d` is that entry. */
  private behindUnrun(d: Delivery): boolean {
    const subject = d.envelope?.subject;
    if (subject === undefined) return false;
    const key = `${d.source.key}\n${subject}`;
    const first = this.blocked.get(key);
    if (first === undefined) return false;
    // NOTE: an entry left behind comes back within a claim timeout (claimed again) unless it was
    // settled meanwhile (an operator acknowledged or dead-lettered it): then nothing waits for it.
    if (first.entryId === d.entryId || Date.now() - first.at > 2 * this.deps.tuning.claimTimeoutMs) {
      this.blocked.delete(key);
      return false;
    }
    return true;
  }

  /** Contract checks (dead letter at once on a breach), upcast and validation, then the handlers. */
  private handle(d: Delivery, context: DeliveryContext, pause: Pause): Promise<void> | void {
    const envelope = d.envelope!;
    const route = d.route;
    if (!route) {
      if (contractRegistry.hasType(envelope.type)) return this.ack(d);
      return this.toDeadLetter(
        d,
        new ContractViolationError('unknown-type', `no contract declares event type "${envelope.type}"`),
        '-',
      );
    }
    // NOTE: handlers get the newest version of a type: an older entry is upcast first, then
    // validated against the newest contract; the envelope keeps the wire version.
    const newest = contractRegistry.newest(envelope.type)!;
    let payload: unknown = envelope.data;
    if (envelope.version !== newest.meta.version) {
      const upcast = upcastToNewest(envelope.type, envelope.version, envelope.data as object);
      if (!upcast.ok) return this.toDeadLetter(d, upcast.error, route.names);
      payload = upcast.value;
      d.upcastFrom = context.upcastFrom = envelope.version;
    }
    if (route.validate) {
      const result = createPayloadValidator(newest.cls).validate(payload);
      if (!result.ok) {
        const detail = result.errors.map((f) => `${f.field || '(payload)'}: ${f.messages.join(', ')}`).join('; ');
        const upcast = d.upcastFrom ? ` (v${d.upcastFrom} upcast to v${newest.meta.version})` : '';
        return this.toDeadLetter(
          d,
          new ContractViolationError('invalid-payload', `${envelope.type} payload${upcast} is invalid: ${detail}`),
          route.names,
        );
      }
      payload = result.value;
    }
    return this.attempt(d, route, payload, context, pause);
  }

  /**
   * Dedupe check, the handlers, and retries until acknowledged, dead-lettered or given up.
   */
  private async attempt(
    d: Delivery,
    route: Route,
    payload: unknown,
    context: DeliveryContext,
    pause: Pause,
  ): Promise<void> {
    // NOTE: no await when the batch claim said run (the common case): an await per delivery is measurable here.
    if (d.bucket && d.claim === 'run') d.claim = undefined;
    else if (d.bucket) {
      const verdict = await this.claimed(d, pause);
      if (verdict === undefined) return this.leftPending(d); // NOTE: shutting down, or the partition moved on: left pending for a restart, a claim or the next owner.
      if (verdict === 'handled') {
        this.deps.stats.duplicates++;
        this.instruments(d).duplicate();
        return this.ack(d);
      }
    }
    // NOTE: which of several handlers already succeeded (a retry runs only the others); one handler needs no set.
    const succeeded = route.bindings.length > 1 ? new Set<HandlerBinding>() : undefined;
    for (;;) {
      context.deliveryCount = d.deliveryCount;
      context.committed = false;
      // NOTE: no clock reads, time parsing or span arguments on this hot path unless metrics / an SDK want them.
      const metrics = this.deps.core.metrics !== undefined;
      const began = metrics ? performance.now() : 0;
      let failure: Failure | undefined;
      if (this.deps.core.options.tracing !== false && tracingActive()) {
        // NOTE: under a span the handlers run through run(), one handler too (a span costs more than its Set).
        failure = await inConsumeSpan(
          d.envelope!,
          { stream: d.source.stream, group: this.deps.group, entryId: d.entryId, attempt: d.deliveryCount },
          () => this.run(route, payload, context, succeeded ?? new Set()),
          (f) => f?.error,
        );
      } else if (succeeded === undefined) {
        // NOTE: one handler, the common case, awaited right here (run() would add a promise per delivery).
        const binding = route.bindings[0];
        stageProbe.on?.('started', [d.entryId]);
        try {
          await binding.handler(payload, context);
          stageProbe.on?.('handled', [d.entryId]);
        } catch (error) {
          failure = { error, binding };
        }
      } else {
        failure = await this.run(route, payload, context, succeeded);
      }
      if (!failure) {
        if (metrics) this.instruments(d).handled((performance.now() - began) / 1000, Date.parse(d.envelope!.time));
        if (!context.committed) return this.ack(d, true);
        this.deps.stats.acked++;
        this.instruments(d).acked();
        return;
      }
      if (context.committed) return; // NOTE: a handler committed (and acked) before a sibling failed: nothing left to retry.
      if (!(await this.retryOrDeadLetter(d, route, failure, pause))) return;
    }
  }

  /**
   * The guard's verdict for this delivery: its batch claim, else a claim of its own; while a copy
   * in flight holds the event, waits (lending its slot) and asks again. Undefined: give up for now.
   */
  private async claimed(d: Delivery, pause: Pause): Promise<ClaimVerdict | undefined> {
    let verdict = d.claim;
    d.claim = undefined;
    for (let waitMs = HELD_RECHECK_MS; ; waitMs = Math.min(waitMs * 2, HELD_RECHECK_MAX_MS)) {
      if (verdict === undefined) {
        try {
          verdict = await this.deps.dedupe!.claim(this.deps.group, d);
        } catch (error) {
          // NOTE: asked again (lending the slot) rather than skipped: a transient failure (a cluster
          // redirection, a failover) must not let the subject's later entries run first.
          this.deps.logger.warn(
            `[group ${this.deps.group}] dedupe claim of ${d.source.key} ${d.entryId} failed, asking again in ${waitMs} ms: ${String(error)}`,
          );
          if (!(await pause(abortableSleep(waitMs, this.deps.stopping)))) return undefined;
          if (this.deps.scope && !this.deps.scope.valid()) return undefined;
          continue;
        }
      }
      if (verdict !== 'held') return verdict;
      if (!(await pause(abortableSleep(waitMs, this.deps.stopping)))) return undefined;
      verdict = undefined;
    }
  }

  /** Runs the handlers not yet successful for this delivery, side by side; the first failure, if any. */
  private async run(
    route: Route,
    payload: unknown,
    context: EventContext,
    succeeded: Set<HandlerBinding>,
  ): Promise<Failure | undefined> {
    // NOTE: one handler (the usual case) is awaited directly: no array, closure or allSettled per event.
    if (route.bindings.length === 1) {
      const binding = route.bindings[0];
      if (succeeded.has(binding)) return undefined;
      try {
        // NOTE: a handler that throws before returning a promise fails like one that rejects.
        await binding.handler(payload, context);
      } catch (error) {
        return { error, binding };
      }
      succeeded.add(binding);
      return undefined;
    }
    const pending = route.bindings.filter((b) => !succeeded.has(b));
    // NOTE: a handler that throws before returning a promise fails like one that rejects.
    const outcomes = await Promise.allSettled(pending.map(async (b) => b.handler(payload, context)));
    let failure: Failure | undefined;
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') succeeded.add(pending[i]);
      else failure ??= { error: outcome.reason, binding: pending[i] };
    });
    return failure;
  }

  /** After a failure: dead-letters past maxAttempts (false), else waits out the backoff and takes the entry again (true). */
  private async retryOrDeadLetter(d: Delivery, route: Route, failure: Failure, pause: Pause): Promise<boolean> {
    const { stats, logger, group, core, consumer } = this.deps;
    stats.failed++;
    this.instruments(d).failed();
    const policy = failure.binding ? this.policies.get(failure.binding)! : this.deps.tuning.retry;
    const handler = failure.binding?.name ?? route.names;
    if (!isRetryable(policy, failure.error, d.deliveryCount)) {
      const reason = failure.error instanceof UnrecoverableError ? failure.error.reason : 'unrecoverable';
      await this.toDeadLetter(d, failure.error, handler, reason);
      return false;
    }
    if (d.deliveryCount >= policy.maxAttempts) {
      await this.toDeadLetter(d, failure.error, handler, 'handler-failed');
      return false;
    }
    const delay = backoffDelay(policy, d.deliveryCount);
    const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
    logger.warn(
      `[group ${group}] ${handler} failed on ${d.envelope!.type} ${d.envelope!.id} (attempt ${d.deliveryCount}/${policy.maxAttempts}), retrying in ${delay} ms: ${message}`,
    );
    // NOTE: the wait ends early at shutdown (left pending for a restart or a claim), or when lease
    // renewal finds the entry no longer ours (an operator dead-lettered or claimed it): its subject
    // must not stay blocked behind a backoff that leads nowhere.
    const lost = new AbortController();
    d.abandon = () => lost.abort();
    const waited = await pause(abortableSleep(delay, AbortSignal.any([this.deps.stopping, lost.signal])));
    d.abandon = undefined;
    if (!waited) {
      // NOTE: stopping: it stays pending (an abandoned entry is no longer ours: nothing waits for it).
      if (!lost.signal.aborted) this.leftPending(d);
      return false;
    }
    if (this.deps.scope && !this.deps.scope.valid()) {
      this.leftPending(d); // NOTE: the partition moved on: its next owner retries it.
      return false;
    }
    let reclaimed: unknown[];
    try {
      reclaimed = await core.redis.xclaim(d.source.key, group, consumer, 0, d.entryId);
    } catch (error) {
      logger.warn(
        `[group ${group}] taking ${d.source.key} ${d.entryId} back for a retry failed, left pending: ${String(error)}`,
      );
      this.leftPending(d);
      return false;
    }
    if (reclaimed.length === 0) return false; // NOTE: no longer ours (acknowledged or claimed elsewhere).
    d.deliveryCount++;
    stats.retried++;
    this.instruments(d).retried();
    return true;
  }

  /** Acknowledges the entry; `handled`: also marks its event handled (when the guard is on). */
  private ack(d: Delivery, handled = false): void {
    this.deps.stats.acked++;
    this.instruments(d).acked();
    if (handled && d.bucket) void this.acks.ack(d.source.key, d.entryId, d.bucket, d.envelope!.id, d.deliveryCount);
    else void this.acks.ack(d.source.key, d.entryId);
  }

  /** The metrics of the delivery's (stream, type, group), resolved once per route. */
  private instruments(d: Delivery): RouteInstruments {
    const metrics = this.deps.core.metrics;
    if (!metrics) return NO_INSTRUMENTS;
    if (d.route) return (d.route.instruments ??= metrics.forRoute(d.source.stream, d.route.type, this.deps.group));
    return metrics.forRoute(d.source.stream, d.envelope?.type ?? '(unreadable)', this.deps.group);
  }

  private context(d: Delivery, handlers: number): DeliveryContext {
    const group = this.deps.group;
    // NOTE: the instance's name, also when the partition is read as consumer p<k> (context.partition says which).
    const consumer = this.deps.core.consumerName;
    const context: DeliveryContext = {
      envelope: d.envelope!,
      stream: d.source.stream,
      entryId: d.entryId,
      group,
      consumer,
      partition: d.source.partition,
      epoch: this.deps.scope?.epoch,
      deliveryCount: d.deliveryCount,
      replay: d.source.kind === 'replay',
      redrive: d.source.kind === 'redrive',
      upcastFrom: d.upcastFrom,
      commit: async (write?: (tx: ChainableCommander) => void, options: CommitOptions = {}) => {
        if (handlers > 1)
          throw new Error(
            `context.commit() settles the entry for the whole group: group ${group} has ${handlers} handlers for ${d.envelope!.type}`,
          );
        const scope = this.deps.scope;
        const fence = scope?.valid() ? scope.fence() : undefined;
        if (scope && !fence) throw new FencedError(group, scope.k);
        const publisher = d.route!.bindings[0].publisher;
        const settle = (tx: ChainableCommander): void => {
          if (d.bucket) queueHandled(tx, d.bucket, [[d.envelope!.id, d.deliveryCount]]);
          // NOTE: a MULTI cannot be made conditional: the writes land even if the lease moved on
          // meanwhile, but the acknowledgement is refused, so the next owner runs the handler again.
          if (fence)
            (tx as ChainableCommander & ConsumerScripts).fencedAck(
              fence.lease,
              d.source.key,
              fence.token,
              group,
              d.entryId,
            );
          else tx.xack(d.source.key, group, d.entryId);
        };
        const inbox =
          write && this.deps.core.cluster && this.deps.core.keys.partitioned ? this.inboxFor(write, d) : undefined;
        let published: PublishedEvent[] = [];
        if (inbox) {
          // NOTE: three steps in three transactions, in this order: the events (so a state that
          // says "announced" is never written before its events are), the writes with the inbox
          // mark, then the acknowledgement. A redelivery after the second finds the mark and only
          // acknowledges; one after the first publishes again (the same ids when the handler
          // chooses them: consumers skip the copies).
          if ((await this.deps.core.redis.hexists(inbox.key, d.envelope!.id)) === 0) {
            if (options.publish?.length) published = await publisher.publishMany(options.publish);
            await this.writeThroughInbox(write!, inbox, d.envelope!.id);
          }
          await publisher.inTransaction(undefined, [], settle);
        } else {
          published = await publisher.inTransaction(write, options.publish ?? [], settle);
        }
        context.committed = true;
        return published;
      },
      committed: false,
    };
    return context;
  }

  /**
   * Where `write`'s keys are, for a commit on a partitioned cluster: undefined when they share the
   * entry's slot (one MULTI, as everywhere else); the inbox (a hash in their slot) when they all
   * sit in one other slot. Keys in several slots: CrossSlotTransactionError, nothing written.
   */
  private inboxFor(write: (tx: ChainableCommander) => void, d: Delivery): Inbox | undefined {
    const probe = this.deps.core.redis.multi();
    write(probe);
    const keys = queuedKeys(probe);
    const home = keySlotOf(d.source.key);
    const slotted = keys.map((key) => ({ key, slot: keySlotOf(key) }));
    const slots = new Set(slotted.map((k) => k.slot));
    if (slots.size === 0 || (slots.size === 1 && slots.has(home))) return undefined;
    const inboxKey =
      slots.size === 1
        ? sameSlotKey(keys[0], `:eb-inbox:${this.deps.group}:${d.bucket?.key.slice(-10) ?? hourOfNow()}`)
        : undefined;
    if (!inboxKey) throw new CrossSlotTransactionError([...slotted, { key: d.source.key, slot: home }]);
    return {
      key: inboxKey,
      expireAt: d.bucket?.expireAt ?? Math.ceil((Date.now() + this.deps.tuning.dedupe.ttlMs) / 1000),
    };
  }

  /** The handler's writes, in their own slot, with the event's inbox mark, in one MULTI. */
  private async writeThroughInbox(
    write: (tx: ChainableCommander) => void,
    inbox: Inbox,
    eventId: string,
  ): Promise<void> {
    const core = this.deps.core;
    const results = await core.transactions.run((tx) => {
      write(tx);
      tx.hset(inbox.key, eventId, String(Date.now()));
      tx.expireat(inbox.key, inbox.expireAt);
    });
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  }

  private async toDeadLetter(
    d: Delivery,
    error: unknown,
    handler: string,
    fallbackReason = 'handler-failed',
  ): Promise<void> {
    const { core, group, stats, logger } = this.deps;
    const consumer = core.consumerName;
    const reason = error instanceof ContractViolationError ? error.reason : fallbackReason;
    const message = error instanceof Error ? error.message : String(error);
    try {
      const scope = this.deps.scope;
      const fence = scope?.valid() ? scope.fence() : undefined;
      if (scope && !fence) throw new FencedError(group, scope.k);
      await deadLetter(
        core.redis,
        core.keys,
        d.fields,
        {
          reason,
          error: message,
          stream: d.source.stream,
          entryId: d.entryId,
          group,
          consumer,
          handler,
          attempts: d.deliveryCount,
          source: d.source.kind,
          partition: d.source.partition,
        },
        fence,
      );
      stats.deadLettered++;
      this.instruments(d).deadLettered(reason);
      logger.warn(
        `[group ${group}] ${d.source.key} ${d.entryId} dead-lettered (${reason}) after ${d.deliveryCount} attempt(s): ${message}`,
      );
    } catch (writeError) {
      if (writeError instanceof FencedError || String(writeError).includes('FENCED')) {
        this.deps.scope?.fenced(1);
        logger.warn(
          `[group ${group}] ${d.source.key} ${d.entryId} not dead-lettered: partition ${this.deps.scope?.k} is no longer this instance's (its next owner handles the entry)`,
        );
        return;
      }
      logger.error(
        `[group ${group}] could not dead-letter ${d.source.key} ${d.entryId}, it stays pending: ${String(writeError)}`,
      );
      this.leftPending(d);
    }
  }
}

/** Where a commit on a partitioned cluster marks the events whose writes (in another slot than the entry's) are done. */
interface Inbox {
  key: string;
  /** Unix seconds. */
  expireAt: number;
}

/** A key in the slot of `key` (its hash tag, or the whole key as the tag), ending in `suffix`; undefined when none can be built. */
function sameSlotKey(key: string, suffix: string): string | undefined {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  if (open !== -1 && close > open + 1) return `${key.slice(0, close + 1)}${suffix}`;
  if (!key.includes('{') && !key.includes('}')) return `{${key}}${suffix}`;
  return undefined;
}

/** `YYYYMMDDHH` of now (UTC). */
function hourOfNow(): string {
  return new Date().toISOString().slice(0, 13).replace(/[-T]/g, '');
}

/** The context handlers see, and whether one of them settled the entry with `commit()`. */
type DeliveryContext = EventContext & { committed: boolean };

/** A copy waiting for the copy in flight asks again after this, doubling up to the max. */
const HELD_RECHECK_MS = 50;
const HELD_RECHECK_MAX_MS = 1_000;

const NO_INSTRUMENTS: RouteInstruments = {
  delivered: () => undefined,
  acked: () => undefined,
  failed: () => undefined,
  retried: () => undefined,
  duplicate: () => undefined,
  deadLettered: () => undefined,
  handled: () => undefined,
};
