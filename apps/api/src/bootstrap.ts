import type { INestApplication } from '@nestjs/common';
import { createPlatformApp } from '@app/platform';

/** The whole platform as one app (what `npm start` runs; tests call this too). */
export async function createApp(): Promise<INestApplication> {
  // NOTE: imported here so an invalid environment (checked while AppModule loads) is a rejected promise, not a crash at require time.
  const { AppModule } = await import('./app.module');
  return createPlatformApp(AppModule, {
    title: 'Event platform',
    description: 'The e-commerce services and the operations API of the Redis Streams event platform',
  });
}
