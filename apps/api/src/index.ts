/**
 * The all-in-one app: `createApp` builds it as `npm start` runs it. Its root module is
 * `@app/api/app.module`, loaded by `createApp` itself so that an invalid environment is a
 * rejected promise rather than an error at import.
 */
export { createApp } from './bootstrap';
