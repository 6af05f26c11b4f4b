import type Redis from 'ioredis';
import { fieldsToRecord } from '../envelope/envelope';
import { RELEASE_CLAIM_LUA } from '../consumer/consumer-scripts';
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
  /** The key actually read (the live stream, or the group's redrive stream). @default the stream's key */
  sourceKey?: string;
  /** The dedupe claim this entry may hold: released in the same MULTI, so the event's copies and redrives run. */
  claim?: { bucket: string; eventId: string; holder: string };
}

/**
 * Moves an entry to `<ns>:{<stream>}:dlq` and acknowledges the original in one MULTI (with the
 * release of its dedupe claim), so a crash between them can neither lose it nor leave it both
 * pending and dead, nor leave its event counted as handled.
 */
export async function deadLetter(redis: Redis, keys: EventBusKeys, fields: string[], why: DeadLetterReason): Promise<string> {
  const original = fieldsToRecord(fields);
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
    .xack(why.sourceKey ?? keys.stream(why.stream), why.group, why.entryId);
  if (why.claim) tx.eval(RELEASE_CLAIM_LUA, 1, why.claim.bucket, why.claim.eventId, why.claim.holder);
  const results = await tx.exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) throw failed?.[0] ?? new Error('dead-letter transaction was discarded');
  return String(results[0][1]);
}
