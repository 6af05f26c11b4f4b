export * from './concurrency.error';
export * from './snapshot-ahead-of-stream.error';
