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

/**
 * Closes politely, falling back to disconnect when the server is gone. A client waiting to
 * reconnect is not ended by `disconnect()` (ioredis 5 only clears its timer: the commands it
 * queued while offline would wait forever, and whoever awaits them, e.g. a consumer loop at
 * shutdown): those are failed here.
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const reconnecting = client.status !== 'ready';
  try {
    await Promise.race([client.quit(), new Promise((_, reject) => setTimeout(() => reject(new Error('quit timeout')), 1000))]);
    if (!reconnecting) return;
  } catch {
    // NOTE: no answer to QUIT: the server is gone.
  }
  // NOTE: between connections, QUIT "succeeds" without an answer and leaves what was sent or queued pending.
  client.disconnect();
  (client as unknown as { flushQueue(error: Error): void }).flushQueue(new Error('Connection is closed.'));
}
