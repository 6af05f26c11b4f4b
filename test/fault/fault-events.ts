import { EventContract } from '@nest-streams/event-bus';
import { IsInt, IsString, Min } from 'class-validator';

/** The one event of the fault tests: `n` is its position in the test's sequence (0-based), `id` its label. */
@EventContract({ type: 'FaultTick', stream: 'ticks' })
export class FaultTick {
  @IsInt()
  @Min(0)
  n!: number;

  @IsString()
  id!: string;

  constructor(props?: FaultTick) {
    if (props) Object.assign(this, props);
  }
}

/**
 * Keys the worker writes next to the bus's own keys, so counts survive the worker's death. They
 * share the stream's hash tag (`{ticks}`), so a MULTI that writes the effect and acks the entry
 * (`context.commit`) stays legal on Redis Cluster too. The counters are per consumer group, so
 * two services reading the same stream (redrive test) are counted apart.
 */
export function faultKeys(namespace: string, group = 'fault') {
  const base = `${namespace}:{ticks}:fault:${group}`;
  return {
    stream: `${namespace}:{ticks}`,
    deadLetters: `${namespace}:{ticks}:dlq`,
    /** The group's redrive stream (dead letters sent back to it). */
    redrive: `${namespace}:{ticks}:redrive:${group}`,
    /** hash n -> how many times a handler started on tick n (a redelivery shows as 2+). */
    deliveries: `${base}:deliveries`,
    /** hash n -> how many times the handler's side effect was applied (exactly-once wants 1). */
    effects: `${base}:effects`,
    /** hash consumer name -> ticks it handled. */
    byConsumer: `${base}:by-consumer`,
    /** hash 'commit' | 'plain' -> effects applied each way (whether `context.commit` was there). */
    modes: `${base}:modes`,
    /** hash n -> handler runs whose context said `redrive: true`. */
    redriven: `${base}:redriven`,
    /** list of JSON `{ n, consumer, start, end }`, one per handler run (RECORD_RUNS=1 only). */
    runs: `${base}:runs`,
  };
}
