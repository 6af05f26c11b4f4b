import type Redis from 'ioredis';

/** The transport's status values, those of Nest's Redis transport. */
export type RedisStreamsStatus = 'connected' | 'reconnecting' | 'disconnected';

/** Feeds a transport's `status` from its connection's events. */
export function reportStatus(redis: Redis, next: (status: RedisStreamsStatus) => void): void {
  redis.on('ready', () => next('connected'));
  redis.on('reconnecting', () => next('reconnecting'));
  redis.on('end', () => next('disconnected'));
}

/** ioredis events an `on()` before `listen()`/`connect()` asked for, replayed on the connection once it exists. */
export class PendingListeners {
  private readonly queued: Array<[event: string, callback: (...args: unknown[]) => void]> = [];

  add(event: string, callback: (...args: unknown[]) => void): void {
    this.queued.push([event, callback]);
  }

  attach(redis: Redis): void {
    for (const [event, callback] of this.queued.splice(0)) redis.on(event, callback);
  }
}
