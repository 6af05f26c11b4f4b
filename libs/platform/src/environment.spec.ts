import { validateEnvironment } from './environment';

describe('validateEnvironment', () => {
  it('fills documented defaults', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:6379', PORT: 3000, EVENT_BUS_NAMESPACE: 'shop', CONSUMER_BATCH_SIZE: 100 });
  });

  it('parses numbers from strings', () => {
    expect(validateEnvironment({ PORT: '8080', CONSUMER_CONCURRENCY: '4' })).toMatchObject({ PORT: 8080, CONSUMER_CONCURRENCY: 4 });
  });

  it('names every bad variable in one message', () => {
    expect(() => validateEnvironment({ REDIS_URL: 'localhost:6379', PORT: 'eighty' })).toThrow(
      /REDIS_URL="localhost:6379".*\n.*PORT=/s,
    );
  });

  it('takes retention-ignored groups as a comma-separated list of group names, and nothing else', () => {
    expect(validateEnvironment({}).RETENTION_IGNORES_GROUPS).toBeUndefined();
    expect(validateEnvironment({ RETENTION_IGNORES_GROUPS: 'flow-index,audit' }).RETENTION_IGNORES_GROUPS).toBe('flow-index,audit');
    expect(() => validateEnvironment({ RETENTION_IGNORES_GROUPS: 'flow-index, audit' })).toThrow(/RETENTION_IGNORES_GROUPS must be a comma-separated list/);
  });
});
