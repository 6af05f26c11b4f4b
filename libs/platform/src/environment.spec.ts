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

describe('validateEnvironment: Redis Cluster', () => {
  it('takes a comma-separated list of seeds only with REDIS_CLUSTER=true', () => {
    const seeds = 'redis://10.0.0.1:7000,redis://10.0.0.2:7000';
    expect(validateEnvironment({ REDIS_URL: seeds, REDIS_CLUSTER: 'true' })).toMatchObject({ REDIS_URL: seeds, REDIS_CLUSTER: 'true' });
    expect(() => validateEnvironment({ REDIS_URL: seeds })).toThrow(/REDIS_URL lists several nodes: set REDIS_CLUSTER=true/);
    expect(() => validateEnvironment({ REDIS_URL: 'redis://a:1,', REDIS_CLUSTER: 'true' })).toThrow(/REDIS_URL must look like/);
    expect(() => validateEnvironment({ REDIS_CLUSTER: 'yes' })).toThrow(/REDIS_CLUSTER must be true or false/);
  });
});
