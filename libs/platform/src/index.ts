export * from './bootstrap';
export * from './environment';
export * from './platform.module';
export * from './service-store';
