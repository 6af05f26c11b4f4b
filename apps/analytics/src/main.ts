import { Module } from '@nestjs/common';
import { createPlatformApp, PlatformModule, runMain } from '@app/platform';
import { AnalyticsModule } from './analytics.module';

@Module({ imports: [PlatformModule.forRoot({ source: 'analytics-service' }), AnalyticsModule] })
class AnalyticsAppModule {}

runMain(() =>
  createPlatformApp(AnalyticsAppModule, {
    title: 'Analytics service',
    description:
      'Orders placed, confirmed and cancelled, revenue, top SKUs and a daily series, projected from the order events',
  }),
);
