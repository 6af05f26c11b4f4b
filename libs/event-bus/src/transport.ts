/**
 * `@nest-streams/event-bus/transport`: a Nest microservices transport on the platform's streams
 * (`@nestjs/microservices` is then a peer dependency).
 */
export { ServerRedisStreams } from './transport/server-redis-streams';
export { ClientRedisStreams } from './transport/client-redis-streams';
export { RedisStreamsContext } from './transport/redis-streams.context';
export { RequestTimeoutError } from './transport/request-timeout.error';
export { RedisStreamsRecord, type RedisStreamsRecordOptions } from './transport/redis-streams.record';
export { REDIS_STREAMS_TRANSPORT } from './transport/redis-streams.constants';
export { defaultPatternRouter, eventPattern, type PatternRoute, type PatternRouter } from './transport/pattern-route';
export type {
  RedisStreamsOptions,
  RedisStreamsServerOptions,
  RedisStreamsClientOptions,
} from './transport/redis-streams.options';
export type { RedisStreamsStatus } from './transport/redis-status';
