import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

/** The URL of the run's own redis-server (see global-setup.ts). */
export function testRedisUrl(): string {
  const url = process.env.REDIS_TEST_URL;
  if (!url) throw new Error('REDIS_TEST_URL is not set: run the tests through jest (global-setup starts redis-server)');
  return url;
}

/** A key namespace no other test file shares. */
export function testNamespace(label: string): string {
  return `t-${label}-${randomBytes(3).toString('hex')}`;
}

export function testRedisClient(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
}

/** Polls until `check` returns true, or fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}
