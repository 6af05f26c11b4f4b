export { LoggingModule, type LoggingOptions } from './logging.module';
export { usePlatformLogger } from './use-platform-logger';
export { logFormat, pinoLevel, LOG_FORMATS, type LogFormat } from './log-settings';
export { logContextFields, type DeliveryLogFields, type TraceLogFields } from './log-context';
export { REQUEST_ID_HEADER } from './http-logging';
