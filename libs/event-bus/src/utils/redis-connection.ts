import Redis, { RedisOptions } from 'ioredis';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/**
 * Opens an ioredis client from a URL or options. `overrides` tune it for its role (a blocking
 * reader must not share a socket with commands that expect quick answers).
 */
export function createRedis(redis: string | RedisOptions | undefined, name: string, overrides: RedisOptions = {}): Redis {
  const base: RedisOptions = { connectionName: name, ...overrides };
  if (redis === undefined || typeof redis === 'string') return new Redis(redis ?? DEFAULT_URL, base);
  return new Redis({ ...redis, ...base });
}

/** Closes politely, falling back to disconnect when the server is gone. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    await Promise.race([client.quit(), new Promise((_, reject) => setTimeout(() => reject(new Error('quit timeout')), 1000))]);
  } catch {
    client.disconnect();
  }
}
