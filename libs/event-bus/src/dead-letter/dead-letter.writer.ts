import type Redis from 'ioredis';
import { fieldsToRecord } from '../envelope/envelope';
import { claimOfEntry, queueReleaseClaim } from '../consumer/dedupe.guard';
import type { Source } from '../consumer/delivery';
import type { EventBusKeys } from '../utils/keys';
import { withConsumerScripts } from '../consumer/consumer-scripts';

/** The lease a dead letter is written under: refused (FENCED) once (group, partition) is no longer the writer's. */
export interface LeaseFence {
  /** The lease key of (group, partition). */
  lease: string;
  /** `<member>|<epoch>`: what the lease must still hold. */
  token: string;
}

/** Why and where an entry failed; stamped on its dead letter. */
export interface DeadLetterReason {
  /** Short machine-readable reason: `bad-json`, `missing-field`, `invalid-payload`, `unknown-type`, `handler-failed`... */
  reason: string;
  error: string;
  stream: string;
  entryId: string;
  group: string;
  consumer: string;
  handler: string;
  attempts: number;
  /** Which of the group's sources the entry was read from (the live stream, or its redrive or replay stream). @default 'live' */
  source?: Source['kind'];
  /** The partition of the entry's stream key (0 when streams are not partitioned). @default 0 */
  partition?: number;
}

/** The key a group reads `kind` entries of `stream` from. */
export function sourceKey(keys: EventBusKeys, stream: string, group: string, kind: Source['kind'], k = 0): string {
  if (kind === 'redrive') return keys.redrive(stream, group, k);
  if (kind === 'replay') return keys.replay(stream, group, k);
  return keys.stream(stream, k);
}

/**
 * Moves an entry to its partition's dead-letter stream (`<ns>:{<stream>}:dlq`), acknowledges the original and releases the dedupe
 * claim it may hold on its event, in one MULTI: a crash can neither lose it, nor leave it both
 * pending and dead, nor leave its event counted as handled (a redrive of it must run). Every
 * dead letter, the consumer's and an operator's, is written here.
 */
export async function deadLetter(
  redis: Redis,
  keys: EventBusKeys,
  fields: string[],
  why: DeadLetterReason,
  fence?: LeaseFence,
): Promise<string> {
  const original = fieldsToRecord(fields);
  const kind = why.source ?? 'live';
  const entry = [
    'reason',
    why.reason,
    'error',
    why.error,
    'stream',
    why.stream,
    'entryid',
    why.entryId,
    'group',
    why.group,
    'consumer',
    why.consumer,
    'handler',
    why.handler,
    'attempts',
    String(why.attempts),
    'deadletteredat',
    new Date().toISOString(),
    'eventid',
    original.id ?? '',
    'type',
    original.type ?? '',
    'envelope',
    JSON.stringify(original),
  ];
  const k = why.partition ?? 0;
  const claim = claimOfEntry(keys, why.stream, why.group, kind, why.entryId, fields, k);
  const dlq = keys.deadLetter(why.stream, k);
  const from = sourceKey(keys, why.stream, why.group, kind, k);
  if (fence) {
    // NOTE: one script: a MULTI cannot be made conditional on the lease.
    const scripts = withConsumerScripts(redis);
    return String(
      await scripts.fencedDeadLetter(
        fence.lease,
        dlq,
        from,
        claim?.bucket ?? fence.lease,
        fence.token,
        why.group,
        why.entryId,
        claim?.eventId ?? '',
        claim?.holder ?? '',
        ...entry,
      ),
    );
  }
  const tx = redis
    .multi()
    .xadd(dlq, '*', ...entry)
    .xack(from, why.group, why.entryId);
  if (claim) queueReleaseClaim(tx, claim);
  const results = await tx.exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) throw failed?.[0] ?? new Error('dead-letter transaction was discarded');
  return String(results[0][1]);
}
