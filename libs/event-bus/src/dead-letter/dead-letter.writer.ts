import type Redis from 'ioredis';
import { fieldsToRecord } from '../envelope/envelope';
import { claimOfEntry, queueReleaseClaim } from '../consumer/dedupe.guard';
import type { Source } from '../consumer/delivery';
import type { EventBusKeys } from '../utils/keys';

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
}

/** The key a group reads `kind` entries of `stream` from. */
export function sourceKey(keys: EventBusKeys, stream: string, group: string, kind: Source['kind']): string {
  if (kind === 'redrive') return keys.redrive(stream, group);
  if (kind === 'replay') return keys.replay(stream, group);
  return keys.stream(stream);
}

/**
 * Moves an entry to `<ns>:{<stream>}:dlq`, acknowledges the original and releases the dedupe
 * claim it may hold on its event, in one MULTI: a crash can neither lose it, nor leave it both
 * pending and dead, nor leave its event counted as handled (a redrive of it must run). Every
 * dead letter, the consumer's and an operator's, is written here.
 */
export async function deadLetter(redis: Redis, keys: EventBusKeys, fields: string[], why: DeadLetterReason): Promise<string> {
  const original = fieldsToRecord(fields);
  const kind = why.source ?? 'live';
  const entry = [
    'reason', why.reason,
    'error', why.error,
    'stream', why.stream,
    'entryid', why.entryId,
    'group', why.group,
    'consumer', why.consumer,
    'handler', why.handler,
    'attempts', String(why.attempts),
    'deadletteredat', new Date().toISOString(),
    'eventid', original.id ?? '',
    'type', original.type ?? '',
    'envelope', JSON.stringify(original),
  ];
  const tx = redis
    .multi()
    .xadd(keys.deadLetter(why.stream), '*', ...entry)
    .xack(sourceKey(keys, why.stream, why.group, kind), why.group, why.entryId);
  const claim = claimOfEntry(keys, why.stream, why.group, kind, why.entryId, fields);
  if (claim) queueReleaseClaim(tx, claim);
  const results = await tx.exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) throw failed?.[0] ?? new Error('dead-letter transaction was discarded');
  return String(results[0][1]);
}
