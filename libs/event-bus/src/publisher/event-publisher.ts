import { randomUUID } from 'node:crypto';
import { CLOUDEVENTS_SPEC_VERSION, DEFAULT_PUBLISH_TIMEOUT_MS, JSON_CONTENT_TYPE } from '../event-bus.constants';
import { contractOf } from '../contracts/contract-registry';
import { currentDelivery } from '../context/delivery-context';
import { encodeEnvelope } from '../envelope/envelope';
import { Deadlines } from './deadlines';
import { EventValidationError } from '../errors/event-validation.error';
import { PublishFailedError } from '../errors/publish-failed.error';
import { CrossSlotTransactionError } from '../errors/cross-slot-transaction.error';
import { queuedKeys } from './transaction-batcher';
import type { EventBusCore } from '../event-bus.core';
import type { EventEnvelope, PublishOptions } from '../interfaces/event-envelope.interface';
import { endSpan, startPublishSpan, TraceCarrier } from '../observability/tracing';
import { createPayloadValidator } from '../validation/payload-validator';

export type { PublishedEvent, OutgoingEvent, TransactionWrites, OutboxOptions } from '../interfaces/publish.interface';
import type { PublishedEvent, OutgoingEvent, OutboxOptions, TransactionWrites } from '../interfaces/publish.interface';

interface PreparedEvent {
  envelope: EventEnvelope<unknown>;
  /** The event id (what the OnceWriter searches for after a dropped connection). */
  id: string;
  stream: string;
  key: string;
  fields: string[];
}

/**
 * Publishes events (instances of `@EventContract` classes) to their streams. Inject it in any
 * provider; inside a module with `EventBusModule.forFeature({ group })` its `source` is that
 * service's name.
 */
export class EventPublisher {
  private readonly deadlines = new Deadlines();

  constructor(
    private readonly core: EventBusCore,
    readonly source: string,
  ) {}

  /**
   * Validates, stamps the envelope and appends one event; with `with`, in one MULTI with the
   * service's own writes (see OutboxOptions). Throws EventValidationError (nothing written) or
   * PublishFailedError.
   */
  async publish(event: object, options: PublishOptions & OutboxOptions = {}): Promise<PublishedEvent> {
    if (options.with) return (await this.inTransaction(options.with, [{ event, options }]))[0];
    const contract = contractOf(event);
    const trace = this.core.options.tracing === false ? undefined : startPublishSpan(contract.stream, contract.type, 1);
    try {
      const prepared = this.prepare(event, options, trace?.carrier, contract);
      const entryId = this.core.writer
        ? (await this.writeOnce([prepared]))[0]
        : await this.withinDeadline([prepared.id], () => this.core.redis.xadd(prepared.key, '*', ...prepared.fields));
      if (this.core.replication) await this.replicated([prepared.id], [prepared.key], !!this.core.writer);
      this.core.metrics?.published(prepared.stream, prepared.envelope.type);
      if (trace) endSpan(trace.span);
      return { envelope: prepared.envelope, stream: prepared.stream, entryId: entryId ?? '' };
    } catch (error) {
      if (error instanceof PublishFailedError) this.core.metrics?.publishFailed(contract.stream, contract.type);
      if (trace) endSpan(trace.span, error);
      throw error;
    }
  }

  /**
   * Publishes a batch in one pipelined round trip (one MULTI with `with`'s writes when given).
   * Every event is validated first: one invalid payload fails the whole call before anything is
   * written. The batch is one PRODUCER span.
   */
  async publishMany(events: Array<object | OutgoingEvent>, options: OutboxOptions = {}): Promise<PublishedEvent[]> {
    if (events.length === 0 && !options.with) return [];
    if (options.with) return this.inTransaction(options.with, events);
    return this.send(
      events,
      async (prepared) => {
        if (this.core.cluster) {
          // NOTE: the events' keys may be on several masters: independent XADDs, which the command
          // client auto-pipelines per node (a pipeline must stay on one node).
          const until = Date.now() + (this.core.options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS);
          const results = await Promise.all(
            prepared.map((p) =>
              this.redirected(() => this.core.redis.xadd(p.key, '*', ...p.fields), until).then(
                (id): [Error | null, unknown] => [null, id],
                (error: Error): [Error | null, unknown] => [error, null],
              ),
            ),
          );
          return { results, offset: 0 };
        }
        const entryIds = await this.writeOnce(prepared);
        return { results: entryIds.map((id): [Error | null, unknown] => [null, id]), offset: 0, once: true };
      },
      !this.core.cluster,
    );
  }

  /** Appends `prepared` at most once each through the core's OnceWriter (one Redis). */
  private writeOnce(prepared: PreparedEvent[]): Promise<string[]> {
    return this.core.appendOnce(prepared, this.core.options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS);
  }

  /**
   * One transaction: `before`'s writes, the events' XADDs, then `after`'s writes; the events are
   * validated before anything is sent. Applied all together or not at all (a command failing at
   * run time, such as a script error, fails the call but does not undo the others: Redis has no
   * rollback). The transactions of one event-loop turn share a round trip (TransactionBatcher).
   * Used by the outbox options and by `EventContext.commit()`.
   * @internal
   */
  async inTransaction(
    before: TransactionWrites | undefined,
    events: Array<object | OutgoingEvent>,
    after?: TransactionWrites,
  ): Promise<PublishedEvent[]> {
    return this.send(events, async (prepared) => {
      let offset = 0;
      let written: string[] = [];
      const results = await this.core.transactions.run((tx) => {
        const queued = tx.length;
        before?.(tx);
        offset = tx.length - queued;
        for (const p of prepared) tx.xadd(p.key, '*', ...p.fields);
        after?.(tx);
        // NOTE: on a cluster the transaction goes alone, so these are its keys (where WAIT must go).
        if (this.core.cluster) written = queuedKeys(tx);
      });
      return { results, offset, written };
    });
  }

  /** Prepares every event, runs `exec` within the deadline, and reads the XADDs' replies from `offset`. */
  private async send(
    events: Array<object | OutgoingEvent>,
    exec: (prepared: PreparedEvent[]) => Promise<{
      results: Array<[Error | null, unknown]> | null;
      offset: number;
      written?: string[];
      /** true: written through the OnceWriter (its own deadline and errors; WAIT on its connection). */
      once?: boolean;
    }>,
    /** true: `exec` waits for the connection and keeps the deadline itself (the OnceWriter does). */
    ownDeadline = false,
  ): Promise<PublishedEvent[]> {
    const first = events.length > 0 ? contractOf(isOutgoing(events[0]) ? events[0].event : events[0]) : undefined;
    const trace =
      this.core.options.tracing === false || !first
        ? undefined
        : startPublishSpan(first.stream, first.type, events.length);
    let prepared: PreparedEvent[] = [];
    try {
      prepared = events.map((item) =>
        isOutgoing(item)
          ? this.prepare(item.event, item.options ?? {}, trace?.carrier)
          : this.prepare(item, {}, trace?.carrier),
      );
      const ids = prepared.map((p) => p.id);
      const { results, offset, written, once } = ownDeadline
        ? await exec(prepared)
        : await this.withinDeadline(ids, () => exec(prepared));
      const failed = (results ?? []).find(([error]) => error);
      if (!results || failed)
        throw new PublishFailedError(ids, failed?.[0] ?? new Error('the transaction was discarded'));
      if (this.core.replication)
        await this.replicated(ids, [...prepared.map((p) => p.key), ...(written ?? [])], once === true);
      for (const p of prepared) this.core.metrics?.published(p.stream, p.envelope.type);
      if (trace) endSpan(trace.span);
      return prepared.map((p, i) => ({
        envelope: p.envelope,
        stream: p.stream,
        entryId: String(results[offset + i][1]),
      }));
    } catch (error) {
      if (error instanceof PublishFailedError)
        for (const p of prepared) this.core.metrics?.publishFailed(p.stream, p.envelope.type);
      if (trace) endSpan(trace.span, error);
      throw error;
    }
  }

  /** Waits for `publishWait.replicas` replicas to have the writes sent so far; PublishFailedError when fewer do in time. */
  private async replicated(ids: string[], keys: string[], onWriter = false): Promise<void> {
    const waiter = onWriter ? this.core.writerReplication! : this.core.replication!;
    const { replicas, timeoutMs } = waiter.policy;
    let acknowledged: number;
    try {
      acknowledged = await waiter.acknowledged(keys);
    } catch (error) {
      throw new PublishFailedError(ids, error);
    }
    if (acknowledged < replicas) {
      throw new PublishFailedError(
        ids,
        new Error(
          `written to the primary but ${acknowledged} of ${replicas} replica(s) confirmed it within ${timeoutMs} ms (WAIT): a failover now could lose it`,
        ),
      );
    }
  }

  /**
   * Sends only once the connection is up (waiting at most publishTimeoutMs, then failing with
   * nothing sent), and fails a write that gets no answer within what is left of that time.
   */
  private withinDeadline<T>(ids: string[], send: () => Promise<T>): Promise<T> {
    const timeoutMs = this.core.options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    const at = Date.now() + timeoutMs;
    // NOTE: no async frame on the path of a connected client: each costs a promise per publish.
    if (this.core.redis.status === 'ready') return this.raceDeadline(ids, send, at, timeoutMs);
    return this.core.writable(timeoutMs).then((up) => {
      if (!up)
        throw new PublishFailedError(
          ids,
          new Error(`Redis is not reachable (waited ${timeoutMs} ms, nothing was sent)`),
        );
      return this.raceDeadline(ids, send, at, timeoutMs);
    });
  }

  /** `send`'s outcome by `at`, its errors as PublishFailedError (a cross-slot refusal as itself). */
  private raceDeadline<T>(ids: string[], send: () => Promise<T>, at: number, timeoutMs: number): Promise<T> {
    let work: Promise<T>;
    try {
      work = this.core.cluster ? this.redirected(send, at) : send();
    } catch (error) {
      work = Promise.reject(error);
    }
    return this.deadlines.race(
      work,
      at,
      () => new Error(`no answer from Redis within ${timeoutMs} ms (the write may still land)`),
      (error) => (error instanceof CrossSlotTransactionError ? error : new PublishFailedError(ids, error)),
    );
  }

  /**
   * Runs `send`; on Redis Cluster sends it again while it is refused by a redirection the client
   * did not follow (a write pipeline is not resent on MOVED; a slot map changing under
   * auto-pipelining): such a write did not run, so sending it again is safe. Until `until`.
   */
  private async redirected<T>(send: () => Promise<T>, until: number): Promise<T> {
    for (;;) {
      try {
        return await send();
      } catch (error) {
        if (!this.core.cluster || !notExecuted(error) || Date.now() + REDIRECT_RETRY_MS >= until) throw error;
        this.core.redirectRetries++;
        await new Promise((resolve) => setTimeout(resolve, REDIRECT_RETRY_MS));
      }
    }
  }

  private prepare(
    event: object,
    options: PublishOptions,
    trace?: TraceCarrier,
    contract = contractOf(event),
  ): PreparedEvent {
    const result = createPayloadValidator(event.constructor as new () => object).validate(event);
    if (!result.ok) throw new EventValidationError(contract.type, result.errors);
    const delivery = currentDelivery();
    const id = options.id ?? randomUUID();
    const envelope: EventEnvelope<unknown> = {
      specversion: CLOUDEVENTS_SPEC_VERSION,
      id,
      type: contract.type,
      version: contract.version,
      source: this.source,
      time: (options.time ?? new Date()).toISOString(),
      datacontenttype: JSON_CONTENT_TYPE,
      data: event,
      subject: options.subject ?? subjectOf(event, contract.subjectField),
      correlationid: options.correlationId ?? delivery?.envelope.correlationid ?? delivery?.envelope.id ?? id,
      causationid: options.causationId ?? delivery?.envelope.id,
      // NOTE: an explicit traceparent wins; else the publish span's, when tracing is on.
      traceparent: options.traceparent ?? trace?.traceparent,
      tracestate: options.traceparent ? options.tracestate : trace?.tracestate,
    };
    // NOTE: an event and every copy of it go to the partition of its subject (its id when it has none).
    const keys = this.core.keys;
    const key = keys.stream(contract.stream, keys.partitioned ? keys.partitionOf(envelope.subject ?? id) : 0);
    return { envelope, id, stream: contract.stream, key, fields: encodeEnvelope(envelope) };
  }
}

/** A publish refused by a cluster redirection is sent again after this long. */
const REDIRECT_RETRY_MS = 25;

/** Errors meaning the command was refused before it ran (a cluster redirection or a slot move), found in an error or in a pipeline's first failed reply. */
function notExecuted(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b|All keys in the pipeline should belong|All the keys in a pipeline command should belong/.test(
    message,
  );
}

function subjectOf(event: object, field: string | undefined): string | undefined {
  if (!field) return undefined;
  const value = (event as Record<string, unknown>)[field];
  return value === undefined || value === null ? undefined : String(value);
}

function isOutgoing(item: object | OutgoingEvent): item is OutgoingEvent {
  return 'event' in item && typeof (item as OutgoingEvent).event === 'object' && item.constructor === Object;
}
