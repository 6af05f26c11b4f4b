import { RedisServer } from './redis-server';

declare global {
  var __REDIS_SERVER__: RedisServer | undefined;
}

/** Starts one throwaway redis-server for the whole run; workers find it in REDIS_TEST_URL. */
export default async function globalSetup(): Promise<void> {
  const server = await RedisServer.start();
  globalThis.__REDIS_SERVER__ = server;
  process.env.REDIS_TEST_URL = server.url;
}
