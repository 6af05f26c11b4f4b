import type { Logger } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { contractRegistry } from '../contracts/contract-registry';
import { runInDeliveryContext } from '../context/delivery-context';
import { deadLetter } from '../dead-letter/dead-letter.writer';
import { decodeEnvelope } from '../envelope/envelope';
import { ContractViolationError } from '../errors/contract-violation.error';
import type { EventBusCore, ResolvedTuning } from '../event-bus.core';
import type { EventContext } from '../interfaces/event-context.interface';
import { createPayloadValidator } from '../validation/payload-validator';
import type { AckBatcher } from './ack-batcher';
import type { HandlerBinding } from './binding';
import type { DedupeGuard } from './dedupe.guard';
import type { Delivery, Source } from './delivery';
import type { Pause } from './dispatcher';
import type { ConsumerStats } from './group-consumer';
import { backoffDelay, resolveRetryPolicy, ResolvedRetryPolicy } from './retry-policy';

export interface ProcessorDeps {
  core: EventBusCore;
  group: string;
  consumer: string;
  tuning: ResolvedTuning;
  bindings: HandlerBinding[];
  acks: AckBatcher;
  dedupe?: DedupeGuard;
  stats: ConsumerStats;
  stopping: AbortSignal;
  logger: Logger;
}

/**
 * What happens to one delivery: contract checks (dead letter at once on a breach), the dedupe
 * guard, the handlers, retries with backoff while the slot is lent to other entries, and
 * finally an acknowledgement or a dead letter.
 */
export class DeliveryProcessor {
  readonly acks: AckBatcher;
  private readonly byStreamAndType = new Map<string, HandlerBinding[]>();
  private readonly policies = new Map<HandlerBinding, ResolvedRetryPolicy>();

  constructor(private readonly deps: ProcessorDeps) {
    this.acks = deps.acks;
    for (const binding of deps.bindings) {
      const key = `${binding.stream}\u0000${binding.type}`;
      this.byStreamAndType.set(key, [...(this.byStreamAndType.get(key) ?? []), binding]);
      this.policies.set(binding, resolveRetryPolicy(deps.tuning.retry, binding.retry));
    }
  }

  prepare(source: Source, entryId: string, fields: string[], deliveryCount: number): Delivery {
    const delivery: Delivery = { source, entryId, fields, deliveryCount };
    try {
      delivery.envelope = decodeEnvelope(fields);
    } catch (error) {
      delivery.breach = error;
    }
    return delivery;
  }

  async process(d: Delivery, pause: Pause): Promise<void> {
    const { stats } = this.deps;
    if (d.breach || !d.envelope) return this.toDeadLetter(d, d.breach, '-');
    const envelope = d.envelope;
    const bindings = this.byStreamAndType.get(`${d.source.stream}\u0000${envelope.type}`);
    if (!bindings) {
      if (contractRegistry.hasType(envelope.type)) return this.ack(d);
      return this.toDeadLetter(d, new ContractViolationError('unknown-type', `no contract declares event type "${envelope.type}"`), '-');
    }
    const names = bindings.map((b) => b.name).join(', ');
    const contract = contractRegistry.find(envelope.type, envelope.version);
    if (!contract) {
      return this.toDeadLetter(d, new ContractViolationError('unknown-version', `${envelope.type} has no contract for version ${envelope.version}`), names);
    }
    let payload: unknown = envelope.data;
    if (bindings.some((b) => b.validate)) {
      const result = createPayloadValidator(contract.cls).validate(envelope.data);
      if (!result.ok) {
        const detail = result.errors.map((f) => `${f.field || '(payload)'}: ${f.messages.join(', ')}`).join('; ');
        return this.toDeadLetter(d, new ContractViolationError('invalid-payload', `${envelope.type} payload is invalid: ${detail}`), names);
      }
      payload = result.value;
    }

    const marker = this.deps.dedupe ? this.deps.core.keys.seen(d.source.stream, this.deps.group, envelope.id) : undefined;
    const succeeded = new Set<HandlerBinding>();
    for (;;) {
      let failure: { error: unknown; binding?: HandlerBinding } | undefined;
      let committed = false;
      const verdict = marker ? await this.deps.dedupe!.begin(marker, d.entryId) : 'run';
      if (verdict === 'duplicate') {
        stats.duplicates++;
        return this.ack(d);
      }
      if (verdict === 'busy') {
        failure = { error: new Error(`another delivery of event ${envelope.id} is being handled right now`) };
      } else {
        const context = this.context(d, marker, bindings.length, () => (committed = true));
        const pending = bindings.filter((b) => !succeeded.has(b));
        const outcomes = await runInDeliveryContext(context, () =>
          Promise.allSettled(pending.map(async (b) => { await b.handler(payload, context); return b; })),
        );
        outcomes.forEach((outcome, i) => {
          if (outcome.status === 'fulfilled') succeeded.add(pending[i]);
          else failure ??= { error: outcome.reason, binding: pending[i] };
        });
      }
      if (!failure) {
        if (!committed) this.ack(d, marker);
        else stats.acked++;
        return;
      }
      if (committed) return; // NOTE: the handler committed (and acked) before a sibling failed: nothing left to retry.
      stats.failed++;
      const policy = failure.binding ? this.policies.get(failure.binding)! : resolveRetryPolicy(this.deps.tuning.retry);
      const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
      if (d.deliveryCount >= policy.maxAttempts) {
        return this.toDeadLetter(d, failure.error, failure.binding?.name ?? names, 'handler-failed', marker);
      }
      const delay = backoffDelay(policy, d.deliveryCount);
      this.deps.logger.warn(`[group ${this.deps.group}] ${failure.binding?.name ?? names} failed on ${envelope.type} ${envelope.id} (attempt ${d.deliveryCount}/${policy.maxAttempts}), retrying in ${delay} ms: ${message}`);
      if (!(await pause(sleep(delay, this.deps.stopping)))) return; // NOTE: shutting down: left pending for a restart or a claim.
      const reclaimed = await this.deps.core.redis.xclaim(d.source.key, this.deps.group, this.deps.consumer, 0, d.entryId).catch(() => []);
      if (reclaimed.length === 0) return; // NOTE: no longer ours (acknowledged or claimed elsewhere).
      d.deliveryCount++;
      stats.retried++;
    }
  }

  private ack(d: Delivery, marker?: string): void {
    this.acks.ack(d.source.key, d.entryId, marker);
    this.deps.stats.acked++;
  }

  private context(d: Delivery, marker: string | undefined, handlers: number, onCommit: () => void): EventContext {
    const { core, group, consumer, tuning } = this.deps;
    return {
      envelope: d.envelope!,
      stream: d.source.stream,
      entryId: d.entryId,
      group,
      consumer,
      deliveryCount: d.deliveryCount,
      replay: false,
      redrive: d.source.kind === 'redrive',
      commit: async (write: (tx: ChainableCommander) => void) => {
        if (handlers > 1) throw new Error(`context.commit() settles the entry for the whole group: group ${group} has ${handlers} handlers for ${d.envelope!.type}`);
        const tx = core.redis.multi();
        write(tx);
        if (marker) tx.set(marker, 'done', 'PX', tuning.dedupe.ttlMs);
        tx.xack(d.source.key, group, d.entryId);
        const results = await tx.exec();
        const failed = results?.find(([error]) => error);
        if (!results || failed) throw failed?.[0] ?? new Error('commit transaction was discarded');
        onCommit();
      },
    };
  }

  private async toDeadLetter(d: Delivery, error: unknown, handler: string, fallbackReason = 'handler-failed', marker?: string): Promise<void> {
    const { core, group, consumer, stats, logger } = this.deps;
    const reason = error instanceof ContractViolationError ? error.reason : fallbackReason;
    const message = error instanceof Error ? error.message : String(error);
    try {
      await deadLetter(core.redis, core.keys, d.fields, {
        reason, error: message, stream: d.source.stream, entryId: d.entryId, group, consumer, handler,
        attempts: d.deliveryCount, sourceKey: d.source.key, marker,
      });
      stats.deadLettered++;
      logger.warn(`[group ${group}] ${d.source.key} ${d.entryId} dead-lettered (${reason}) after ${d.deliveryCount} attempt(s): ${message}`);
    } catch (writeError) {
      logger.error(`[group ${group}] could not dead-letter ${d.source.key} ${d.entryId}, it stays pending: ${String(writeError)}`);
    }
  }
}

/** Resolves true after `ms`, or false at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
