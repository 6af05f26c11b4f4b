import type { INestApplication, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { createPlatformApp } from '@app/platform';
import { testNamespace, testPlatformEnv } from '../../../../test/support/redis';

export const READER_KEY = 'reader-key-0123456789abcdef';
export const OPERATOR_KEY = 'operator-key-0123456789abcdef';
export const SECOND_OPERATOR_KEY = 'operator-key-2-0123456789abcdef';

export interface OpsTestApp {
  app: INestApplication;
  namespace: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
}

/**
 * The whole platform app (AppModule, with OpsModule) as `createApp()` builds it, plus test-only
 * modules, against the run's redis-server in a fresh namespace, listening on a free port. The
 * environment is read when AppModule is first imported: one configuration per test file.
 */
export async function createOpsTestApp(
  options: { namespace?: string; env?: Record<string, string | undefined>; extra?: Type[] } = {},
): Promise<OpsTestApp> {
  const namespace = options.namespace ?? testNamespace('ops');
  Object.assign(process.env, {
    ...testPlatformEnv(),
    EVENT_BUS_NAMESPACE: namespace,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    CONSUMER_BLOCK_MS: '200',
    API_KEYS: `reader:${READER_KEY},operator:${OPERATOR_KEY},operator:${SECOND_OPERATOR_KEY}`,
  });
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  const { AppModule } = await import('../../src/app.module');

  @Module({ imports: [AppModule, ...(options.extra ?? [])] })
  class OpsTestRootModule {}

  const app = await createPlatformApp(OpsTestRootModule, { title: 'Event platform', description: 'ops e2e' });
  await app.listen(0, '127.0.0.1');
  return { app, namespace, url: await app.getUrl() };
}
