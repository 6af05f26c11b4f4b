export * from './bootstrap';
export * from './environment';
export * from './logging';
export * from './platform.module';
export * from './redis-unavailable';
export * from './service-store';
export * from './tracing';
