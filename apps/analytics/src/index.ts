/** The analytics service as other apps compose it. */
export { AnalyticsModule } from './analytics.module';
