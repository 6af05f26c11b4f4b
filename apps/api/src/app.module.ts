import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { EventBusModule } from '@app/event-bus';
import { Environment, validateEnvironment } from '@app/platform';
import { EventTypesController } from './event-types.controller';

/** The platform in one process: the bus, and (as their issues land) every service and the operations API. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, validate: validateEnvironment, ignoreEnvFile: true }),
    EventBusModule.forRootAsync({
      isGlobal: true,
      inject: [ConfigService],
      useFactory: (config: ConfigService<Environment, true>) => ({
        redis: config.get('REDIS_URL', { infer: true }),
        namespace: config.get('EVENT_BUS_NAMESPACE', { infer: true }),
        source: 'api',
        consumerName: config.get('CONSUMER_NAME', { infer: true }),
        consumer: {
          batchSize: config.get('CONSUMER_BATCH_SIZE', { infer: true }),
          blockMs: config.get('CONSUMER_BLOCK_MS', { infer: true }),
          concurrency: config.get('CONSUMER_CONCURRENCY', { infer: true }),
        },
      }),
    }),
  ],
  controllers: [EventTypesController],
})
export class AppModule {}
