import { ValidationPipe } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { logLevels, PlatformModule, usePlatformLogger } from '@app/platform';
import type { TestPlatformApp } from '../../../../test/support/platform-app';
import { testNamespace, testRedisUrl } from '../../../../test/support/redis';
import { MAIL_TRANSPORT } from '../../src/email.constants';
import { EmailModule } from '@app/email';
import type { MailTransport } from '../../src/transport/mail-transport.interface';

/**
 * Like `createTestPlatformApp([EmailModule])` (same env, pipes, fresh namespace, free port), with
 * the `MAIL_TRANSPORT` replaced by `transport`; without one, the service picks its own (SMTP
 * when `env` sets `SMTP_URL`).
 */
export async function createEmailTestApp(
  transport: MailTransport | undefined,
  env: Record<string, string> = {},
): Promise<TestPlatformApp> {
  const namespace = testNamespace('email');
  Object.assign(process.env, {
    REDIS_URL: testRedisUrl(),
    EVENT_BUS_NAMESPACE: namespace,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    CONSUMER_BLOCK_MS: '200',
    ...env,
  });
  const builder = Test.createTestingModule({ imports: [PlatformModule.forRoot({ source: 'test' }), EmailModule] });
  const moduleRef = await (
    transport ? builder.overrideProvider(MAIL_TRANSPORT).useValue(transport) : builder
  ).compile();
  const app = moduleRef.createNestApplication({ logger: logLevels(process.env.LOG_LEVEL) });
  usePlatformLogger(app);
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  await app.listen(0, '127.0.0.1');
  return { app, namespace, url: await app.getUrl() };
}
