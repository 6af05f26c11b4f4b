import type { INestApplication, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { createPlatformApp, PlatformModule, PlatformOptions } from '@app/platform';
import { testNamespace, testPlatformEnv } from './redis';

export interface TestPlatformApp {
  app: INestApplication;
  namespace: string;
  /** `http://127.0.0.1:<port>` of the listening app. */
  url: string;
}

/**
 * Boots service modules the way their main.ts does (PlatformModule + the modules, global
 * pipes, Swagger), against the run's Redis (its topology: see testPlatformEnv), in a fresh namespace unless one is given,
 * listening on a free port. `platform` goes to `PlatformModule.forRoot` (e.g. `logDestination`).
 */
export async function createTestPlatformApp(
  modules: Type[],
  options: { namespace?: string; env?: Record<string, string>; platform?: PlatformOptions } = {},
): Promise<TestPlatformApp> {
  const namespace =
    options.namespace ??
    testNamespace(
      modules
        .map((m) => m.name.replace(/Module$/, '').toLowerCase())
        .join('-')
        .slice(0, 24),
    );
  Object.assign(process.env, {
    ...testPlatformEnv(),
    EVENT_BUS_NAMESPACE: namespace,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    CONSUMER_BLOCK_MS: '200',
    ...options.env,
  });

  @Module({ imports: [PlatformModule.forRoot({ source: 'test', ...options.platform }), ...modules] })
  class TestRootModule {}

  const app = await createPlatformApp(TestRootModule, { title: 'test', description: 'test' });
  await app.listen(0, '127.0.0.1');
  return { app, namespace, url: await app.getUrl() };
}
