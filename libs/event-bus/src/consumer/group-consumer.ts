import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { contractRegistry } from '../contracts/contract-registry';
import { runInDeliveryContext } from '../context/delivery-context';
import { deadLetter } from '../dead-letter/dead-letter.writer';
import { decodeEnvelope } from '../envelope/envelope';
import { ContractViolationError } from '../errors/contract-violation.error';
import type { EventBusCore, ResolvedTuning } from '../event-bus.core';
import type { EventContext } from '../interfaces/event-context.interface';
import type { EventEnvelope } from '../interfaces/event-envelope.interface';
import { createPayloadValidator } from '../validation/payload-validator';
import { AckBatcher } from './ack-batcher';
import type { HandlerBinding } from './binding';
import { Dispatcher } from './dispatcher';

type StreamReply = Array<[key: string, entries: Array<[id: string, fields: string[] | null]>]>;

/**
 * One service's consumer in one process: a blocking XREADGROUP loop over all the streams the
 * group reads, dispatch by type with bounded concurrency and per-subject order, batched XACK.
 */
export class GroupConsumer {
  private readonly logger = new Logger(GroupConsumer.name);
  private readonly streams: string[];
  private readonly streamKeys: string[];
  private readonly byStreamAndType = new Map<string, HandlerBinding[]>();
  private readonly dispatcher: Dispatcher;
  private readonly acks: AckBatcher;
  private reader?: Redis;
  private readerId?: number;
  private running = false;
  private loop?: Promise<void>;
  /** Counters for tests, health and metrics. */
  readonly stats = { delivered: 0, acked: 0, deadLettered: 0, failed: 0 };

  constructor(
    private readonly core: EventBusCore,
    readonly group: string,
    private readonly tuning: ResolvedTuning,
    bindings: HandlerBinding[],
  ) {
    for (const binding of bindings) {
      const key = `${binding.stream}\u0000${binding.type}`;
      this.byStreamAndType.set(key, [...(this.byStreamAndType.get(key) ?? []), binding]);
    }
    this.streams = [...new Set(bindings.map((b) => b.stream))];
    this.streamKeys = this.streams.map((s) => core.keys.stream(s));
    this.dispatcher = new Dispatcher(tuning.concurrency);
    this.acks = new AckBatcher(core.redis, group, (error, count) =>
      this.logger.error(`[group ${group}] XACK of ${count} entries failed, they stay pending: ${String(error)}`),
    );
  }

  get consumerName(): string {
    return this.core.consumerName;
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.ensureGroups();
    this.reader = this.core.createReader(this.group);
    this.readerId = Number(await this.reader.client('ID'));
    this.running = true;
    this.loop = this.run();
  }

  /** Stops reading, finishes what was read, acknowledges it, closes the reader. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.readerId !== undefined) {
      // NOTE: wakes the blocked XREADGROUP at once instead of waiting out BLOCK.
      await this.core.redis.client('UNBLOCK', this.readerId).catch(() => undefined);
    }
    await this.loop;
    const drained = await Promise.race([
      this.dispatcher.idle().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), this.tuning.shutdownTimeoutMs).unref()),
    ]);
    if (!drained) {
      this.logger.warn(`[group ${this.group}] ${this.dispatcher.size} handlers still running at shutdown; their entries stay pending`);
    }
    await this.acks.drain();
    if (this.reader) await this.core.closeReader(this.reader);
  }

  private async ensureGroups(): Promise<void> {
    const start = this.tuning.startFrom === 'new' ? '$' : '0';
    for (const key of this.streamKeys) {
      try {
        await this.core.redis.xgroup('CREATE', key, this.group, start, 'MKSTREAM');
      } catch (error) {
        if (!String(error).includes('BUSYGROUP')) throw error;
      }
    }
  }

  private async run(): Promise<void> {
    // NOTE: first our own pending entries (read back from id 0), then new ones ('>').
    const cursors = this.streamKeys.map(() => '0');
    let backlog = true;
    const { batchSize, blockMs } = this.tuning;
    while (this.running) {
      await this.dispatcher.below(batchSize);
      if (!this.running) break;
      let reply: StreamReply | null;
      try {
        reply = backlog
          ? ((await this.reader!.xreadgroup('GROUP', this.group, this.consumerName, 'COUNT', batchSize, 'STREAMS', ...this.streamKeys, ...cursors)) as StreamReply | null)
          : ((await this.reader!.xreadgroup('GROUP', this.group, this.consumerName, 'COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', ...this.streamKeys, ...this.streamKeys.map(() => '>'))) as StreamReply | null);
      } catch (error) {
        if (!this.running) break;
        await this.recoverFromReadError(error);
        continue;
      }
      if (!reply) continue;
      let seen = 0;
      for (const [key, entries] of reply) {
        const streamIndex = this.streamKeys.indexOf(key);
        const counts = backlog && entries.length > 0 ? await this.deliveryCounts(key, entries) : undefined;
        for (const [entryId, fields] of entries) {
          seen++;
          if (backlog) cursors[streamIndex] = entryId;
          this.accept(streamIndex, entryId, fields, counts?.get(entryId) ?? 1);
        }
      }
      if (backlog && seen === 0) backlog = false;
    }
  }

  /** Delivery counts of entries read back from our own pending list (XPENDING, one call per stream). */
  private async deliveryCounts(key: string, entries: Array<[string, string[] | null]>): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    try {
      const first = entries[0][0];
      const last = entries[entries.length - 1][0];
      const rows = (await this.core.redis.xpending(key, this.group, first, last, entries.length, this.consumerName)) as Array<[string, string, number, number]>;
      for (const [id, , , count] of rows) counts.set(id, Number(count));
    } catch (error) {
      this.logger.warn(`[group ${this.group}] XPENDING failed, delivery counts unknown: ${String(error)}`);
    }
    return counts;
  }

  private async recoverFromReadError(error: unknown): Promise<void> {
    const message = String(error);
    if (message.includes('NOGROUP')) {
      this.logger.warn(`[group ${this.group}] group or stream vanished (Redis restarted without data?): recreating`);
      await this.ensureGroups().catch(() => undefined);
      return;
    }
    this.logger.warn(`[group ${this.group}] read failed, retrying: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  private accept(streamIndex: number, entryId: string, fields: string[] | null, deliveryCount: number): void {
    const stream = this.streams[streamIndex];
    const key = this.streamKeys[streamIndex];
    this.stats.delivered++;
    if (fields === null) {
      // NOTE: an entry deleted (trimmed) while pending: nothing left to handle.
      this.acks.ack(key, entryId);
      return;
    }
    let envelope: EventEnvelope<unknown>;
    try {
      envelope = decodeEnvelope(fields);
    } catch (error) {
      this.dispatcher.submit(undefined, () => this.toDeadLetter(stream, entryId, fields, error, '-', deliveryCount));
      return;
    }
    this.dispatcher.submit(envelope.subject, () => this.handle(stream, key, entryId, fields, envelope, deliveryCount));
  }

  private async handle(stream: string, key: string, entryId: string, fields: string[], envelope: EventEnvelope<unknown>, deliveryCount: number): Promise<void> {
    const bindings = this.byStreamAndType.get(`${stream}\u0000${envelope.type}`);
    if (!bindings) {
      if (contractRegistry.hasType(envelope.type)) {
        this.acks.ack(key, entryId);
        this.stats.acked++;
        return;
      }
      const error = new ContractViolationError('unknown-type', `no contract declares event type "${envelope.type}"`);
      return this.toDeadLetter(stream, entryId, fields, error, '-', deliveryCount);
    }
    const contract = contractRegistry.find(envelope.type, envelope.version);
    if (!contract) {
      const error = new ContractViolationError('unknown-version', `${envelope.type} has no contract for version ${envelope.version}`);
      return this.toDeadLetter(stream, entryId, fields, error, bindings[0].name, deliveryCount);
    }
    let payload: unknown = envelope.data;
    if (bindings.some((b) => b.validate)) {
      const result = createPayloadValidator(contract.cls).validate(envelope.data);
      if (!result.ok) {
        const detail = result.errors.map((f) => `${f.field || '(payload)'}: ${f.messages.join(', ')}`).join('; ');
        const error = new ContractViolationError('invalid-payload', `${envelope.type} payload is invalid: ${detail}`);
        return this.toDeadLetter(stream, entryId, fields, error, bindings[0].name, deliveryCount);
      }
      payload = result.value;
    }
    const context: EventContext = {
      envelope,
      stream,
      entryId,
      group: this.group,
      consumer: this.consumerName,
      deliveryCount,
      replay: false,
    };
    try {
      await runInDeliveryContext(context, async () => {
        if (bindings.length === 1) await bindings[0].handler(payload, context);
        else await Promise.all(bindings.map((b) => b.handler(payload, context)));
      });
    } catch (error) {
      // NOTE: left pending; it comes back after a restart. Retries with backoff come with the guarantees work.
      this.stats.failed++;
      this.logger.error(`[group ${this.group}] ${bindings.map((b) => b.name).join(', ')} failed on ${envelope.type} ${envelope.id} (${stream} ${entryId}): ${String(error)}`);
      return;
    }
    this.acks.ack(key, entryId);
    this.stats.acked++;
  }

  private async toDeadLetter(stream: string, entryId: string, fields: string[], error: unknown, handler: string, attempts: number): Promise<void> {
    const reason = error instanceof ContractViolationError ? error.reason : 'handler-failed';
    const message = error instanceof Error ? error.message : String(error);
    try {
      await deadLetter(this.core.redis, this.core.keys, fields, {
        reason, error: message, stream, entryId, group: this.group, consumer: this.consumerName, handler, attempts,
      });
      this.stats.deadLettered++;
      this.logger.warn(`[group ${this.group}] ${stream} ${entryId} dead-lettered (${reason}): ${message}`);
    } catch (writeError) {
      this.logger.error(`[group ${this.group}] could not dead-letter ${stream} ${entryId}, it stays pending: ${String(writeError)}`);
    }
  }
}
