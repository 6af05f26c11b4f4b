import type Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';

export interface EventStoreOptions {
  /** Prefix of every key: streams are `<namespace>:es:{<stream>}`. @default 'eb' */
  namespace?: string;
  /** Events per XRANGE page when reading or loading. @default 1000 */
  pageSize?: number;
}

export interface EventStoreModuleOptions extends EventStoreOptions {
  /**
   * A connected ioredis client to share (the store does not close it), or a URL / ioredis options
   * to open one of its own (closed at application shutdown). @default 'redis://127.0.0.1:6379'
   */
  redis?: Redis | string | RedisOptions;
}
