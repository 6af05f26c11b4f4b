import type Redis from 'ioredis';

/**
 * The dedupe guard: a group's handlers run for an event id once while its marker lives (TTL).
 * A marker is written (`done`) only with the acknowledgement of a successful delivery, in the
 * same script or MULTI, and read for a whole read batch with one MGET before dispatch.
 *
 * Within one consumer, the caller closes the gaps a batch read leaves: two copies of one event
 * held at once (a resent XADD, a replay racing the live entry) are serialised until the first is
 * acknowledged, and a copy whose batch was read before the first copy's marker went out is
 * recognised from a short in-memory log of markers sent (see SentMarkers). Two
 * copies held by two instances at the same moment can both run: handlers whose effect must be
 * exactly-once keep their own per-business-key check inside `context.commit()`.
 */
export class DedupeGuard {
  constructor(
    private readonly redis: Redis,
    readonly ttlMs: number,
  ) {}

  /** For each marker: has its event been handled by this group? (one MGET) */
  async handledMany(markers: string[]): Promise<boolean[]> {
    if (markers.length === 0) return [];
    const values = await this.redis.mget(...markers);
    return values.map((value) => value === 'done');
  }

  async handled(marker: string): Promise<boolean> {
    return (await this.redis.get(marker)) === 'done';
  }
}
