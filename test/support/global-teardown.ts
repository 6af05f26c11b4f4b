export default async function globalTeardown(): Promise<void> {
  await globalThis.__REDIS_SERVER__?.destroy();
}
