import type Redis from 'ioredis';
import type { CancellationReason } from '@app/contracts';

/** What one saga event does to a Pending order. */
export type SagaStep =
  | { kind: 'inventory-reserved' }
  | { kind: 'payment-succeeded'; paymentId: string }
  | { kind: 'cancel'; reason: CancellationReason; detail: string };

/**
 * - `unknown`: no such order (nothing written)
 * - `recorded`: history appended, the order still waits for the other half
 * - `late`: the order was already Confirmed/Cancelled; history appended only
 * - `seen`: this event id was applied before; nothing written
 * - `Confirmed` / `Cancelled`: this event decided the order, or this is the stream entry that did,
 *   delivered again (retry, crash, claim) before the outcome was announced: publish the outcome
 */
export type TransitionOutcome = 'unknown' | 'recorded' | 'late' | 'seen' | 'Confirmed' | 'Cancelled';

export interface TransitionKeys {
  order: string;
  history: string;
  events: string;
}

// KEYS: 1 order hash, 2 history list, 3 set of applied event ids.
// ARGV: 1 event id, 2 history entry JSON, 3 step kind, 4 paymentId or reason, 5 detail, 6 now (ISO), 7 stream entry id.
// One script, so two saga events of one order (even on two instances) cannot both decide it. Only the
// very entry that decided may announce again (a copy of it with another entry id, racing on another
// instance, may not), and only until the announcement is committed.
const TRANSITION = `
local kind = ARGV[3]
if kind ~= 'inventory-reserved' and kind ~= 'payment-succeeded' and kind ~= 'cancel' then
  return redis.error_reply('unknown saga step ' .. kind)
end
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'unknown' end
if redis.call('SADD', KEYS[3], ARGV[1]) == 0 then
  if status ~= 'Pending' and redis.call('HGET', KEYS[1], 'decidedBy') == ARGV[1]
    and redis.call('HGET', KEYS[1], 'decidedEntry') == ARGV[7] and redis.call('HEXISTS', KEYS[1], 'announced') == 0 then
    return status
  end
  return 'seen'
end
redis.call('RPUSH', KEYS[2], ARGV[2])
if status ~= 'Pending' then return 'late' end
if kind == 'cancel' then
  redis.call('HSET', KEYS[1], 'status', 'Cancelled', 'reason', ARGV[4], 'detail', ARGV[5], 'decidedAt', ARGV[6], 'decidedBy', ARGV[1], 'decidedEntry', ARGV[7])
  return 'Cancelled'
end
if kind == 'inventory-reserved' then
  redis.call('HSET', KEYS[1], 'inventory', 'reserved')
else
  redis.call('HSET', KEYS[1], 'paymentId', ARGV[4])
end
if redis.call('HGET', KEYS[1], 'inventory') == 'reserved' and redis.call('HEXISTS', KEYS[1], 'paymentId') == 1 then
  redis.call('HSET', KEYS[1], 'status', 'Confirmed', 'decidedAt', ARGV[6], 'decidedBy', ARGV[1], 'decidedEntry', ARGV[7])
  return 'Confirmed'
end
return 'recorded'`;

const COMMAND = 'orderSagaTransition';

interface TransitionCommand {
  orderSagaTransition(order: string, history: string, events: string, ...args: string[]): Promise<TransitionOutcome>;
}

/** Registers the script on `redis` (once per connection; the bus's connection is shared by services). */
export function defineTransitionScript(redis: Redis): void {
  if (!(redis as unknown as Partial<TransitionCommand>)[COMMAND])
    redis.defineCommand(COMMAND, { numberOfKeys: 3, lua: TRANSITION });
}

/** Applies one saga event to an order atomically; see TransitionOutcome. */
export function runTransition(
  redis: Redis,
  keys: TransitionKeys,
  event: { id: string; entryId: string; historyEntry: string },
  step: SagaStep,
  now: Date,
): Promise<TransitionOutcome> {
  const value = step.kind === 'payment-succeeded' ? step.paymentId : step.kind === 'cancel' ? step.reason : '';
  const detail = step.kind === 'cancel' ? step.detail : '';
  return (redis as unknown as TransitionCommand)[COMMAND](
    keys.order,
    keys.history,
    keys.events,
    event.id,
    event.historyEntry,
    step.kind,
    value,
    detail,
    now.toISOString(),
    event.entryId,
  );
}
