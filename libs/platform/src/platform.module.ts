import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { EventBusModule } from '@nest-streams/event-bus';
import type { DestinationStream } from 'pino';
import { Environment, validateEnvironment } from './environment';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { BullConnections, BullConnectionsModule } from './bull-connections';
import { bullConnection, bullPrefix, busConnection, redisTopology, RedisTopology } from './redis-topology';
import { bullmqTelemetry } from './tracing/bullmq-telemetry';
import { tracingSettings } from './tracing/tracing-settings';
import { TracingModule } from './tracing/tracing.module';

export interface PlatformOptions {
  /** CloudEvents `source` of events published outside a service module. @default 'platform' */
  source?: string;
  /** Where log lines go (tests pass a stream to read them back). @default process.stdout */
  logDestination?: DestinationStream;
}

type Config = ConfigService<Environment, true>;

function topologyOf(config: Config): RedisTopology {
  return redisTopology(config.get('REDIS_URL', { infer: true }), config.get('REDIS_CLUSTER', { infer: true }));
}

/**
 * What every process of the platform shares: validated configuration, the event bus and the
 * BullMQ connection (commands), all from the environment. One per process, in the root module.
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions = {}): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, validate: validateEnvironment, ignoreEnvFile: true }),
        EventBusModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService],
          useFactory: (config: Config) => ({
            redis: busConnection(topologyOf(config)),
            namespace: config.get('EVENT_BUS_NAMESPACE', { infer: true }),
            source: options.source ?? 'platform',
            consumerName: config.get('CONSUMER_NAME', { infer: true }),
            partitions: config.get('EVENT_BUS_PARTITIONS', { infer: true }),
            partitioning: {
              leaseMs: config.get('CONSUMER_LEASE_MS', { infer: true }),
              heartbeatMs: config.get('CONSUMER_HEARTBEAT_MS', { infer: true }),
              sessionTimeoutMs: config.get('CONSUMER_SESSION_TIMEOUT_MS', { infer: true }),
            },
            retentionMaxAgeMs: config.get('EVENT_RETENTION_MAX_AGE_MS', { infer: true }),
            retentionIgnoresGroups: config.get('RETENTION_IGNORES_GROUPS', { infer: true })?.split(',') ?? [],
            publishWait: {
              replicas: config.get('REDIS_WAIT_REPLICAS', { infer: true }),
              timeoutMs: config.get('REDIS_WAIT_TIMEOUT_MS', { infer: true }),
            },
            consumer: {
              batchSize: config.get('CONSUMER_BATCH_SIZE', { infer: true }),
              blockMs: config.get('CONSUMER_BLOCK_MS', { infer: true }),
              concurrency: config.get('CONSUMER_CONCURRENCY', { infer: true }),
            },
          }),
        }),
        BullModule.forRootAsync({
          imports: [BullConnectionsModule],
          inject: [ConfigService, BullConnections],
          useFactory: (config: Config, connections: BullConnections) => ({
            connection: connections.track(bullConnection(topologyOf(config))),
            prefix: bullPrefix(config.get('EVENT_BUS_NAMESPACE', { infer: true }), topologyOf(config)),
            // NOTE: jobs (a mail, a replay) join the trace that enqueued them; off with OTEL_SDK_DISABLED=true.
            telemetry: tracingSettings({ OTEL_SDK_DISABLED: config.get('OTEL_SDK_DISABLED', { infer: true }) }).enabled
              ? bullmqTelemetry()
              : undefined,
          }),
        }),
        HealthModule,
        LoggingModule.forRoot({ name: options.source, destination: options.logDestination }),
        MetricsModule,
        TracingModule,
      ],
    };
  }
}
