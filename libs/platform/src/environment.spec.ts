import { validateEnvironment } from './environment';

describe('validateEnvironment', () => {
  it('fills documented defaults', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: 3000,
      EVENT_BUS_NAMESPACE: 'shop',
      CONSUMER_BATCH_SIZE: 100,
    });
  });

  it('parses numbers from strings', () => {
    expect(validateEnvironment({ PORT: '8080', CONSUMER_CONCURRENCY: '4' })).toMatchObject({
      PORT: 8080,
      CONSUMER_CONCURRENCY: 4,
    });
  });

  it('names every bad variable in one message', () => {
    expect(() => validateEnvironment({ REDIS_URL: 'localhost:6379', PORT: 'eighty' })).toThrow(
      /REDIS_URL="localhost:6379".*\n.*PORT=/s,
    );
  });

  it('takes retention-ignored groups as a comma-separated list of group names, and nothing else', () => {
    expect(validateEnvironment({}).RETENTION_IGNORES_GROUPS).toBeUndefined();
    expect(validateEnvironment({ RETENTION_IGNORES_GROUPS: 'flow-index,audit' }).RETENTION_IGNORES_GROUPS).toBe(
      'flow-index,audit',
    );
    expect(() => validateEnvironment({ RETENTION_IGNORES_GROUPS: 'flow-index, audit' })).toThrow(
      /RETENTION_IGNORES_GROUPS must be a comma-separated list/,
    );
  });

  it('gives streams a default retention of 7 days, 0 keeping events forever', () => {
    expect(validateEnvironment({}).EVENT_RETENTION_MAX_AGE_MS).toBe(604_800_000);
    expect(validateEnvironment({ EVENT_RETENTION_MAX_AGE_MS: '0' }).EVENT_RETENTION_MAX_AGE_MS).toBe(0);
    expect(() => validateEnvironment({ EVENT_RETENTION_MAX_AGE_MS: '-1' })).toThrow(/EVENT_RETENTION_MAX_AGE_MS/);
    expect(validateEnvironment({}).FLOW_INDEX_TTL_SECONDS).toBeUndefined();
  });
});

describe('validateEnvironment: Redis Cluster', () => {
  it('takes a comma-separated list of seeds only with REDIS_CLUSTER=true', () => {
    const seeds = 'redis://10.0.0.1:7000,redis://10.0.0.2:7000';
    expect(validateEnvironment({ REDIS_URL: seeds, REDIS_CLUSTER: 'true' })).toMatchObject({
      REDIS_URL: seeds,
      REDIS_CLUSTER: 'true',
    });
    expect(() => validateEnvironment({ REDIS_URL: seeds })).toThrow(
      /REDIS_URL lists several nodes: set REDIS_CLUSTER=true/,
    );
    expect(() => validateEnvironment({ REDIS_URL: 'redis://a:1,', REDIS_CLUSTER: 'true' })).toThrow(
      /REDIS_URL must look like/,
    );
    expect(() => validateEnvironment({ REDIS_CLUSTER: 'yes' })).toThrow(/REDIS_CLUSTER must be true or false/);
  });
});

describe('validateEnvironment: partitions', () => {
  it('defaults to one partition and the documented lease timings', () => {
    expect(validateEnvironment({})).toMatchObject({
      EVENT_BUS_PARTITIONS: 1,
      CONSUMER_LEASE_MS: 10_000,
      CONSUMER_HEARTBEAT_MS: 1000,
      CONSUMER_SESSION_TIMEOUT_MS: 10_000,
    });
  });

  it('takes a power of two from 1 to 1024', () => {
    for (const p of ['1', '2', '16', '1024'])
      expect(validateEnvironment({ EVENT_BUS_PARTITIONS: p }).EVENT_BUS_PARTITIONS).toBe(Number(p));
  });

  it('refuses anything else, naming the variable', () => {
    for (const p of ['0', '3', '12', '2048', '-4', '1.5', 'sixteen', '']) {
      expect(() => validateEnvironment({ EVENT_BUS_PARTITIONS: p })).toThrow(
        /EVENT_BUS_PARTITIONS=.*: EVENT_BUS_PARTITIONS must be a power of two from 1 to 1024/,
      );
    }
  });

  it('parses the lease timings and refuses a heartbeat that is not shorter than the lease', () => {
    expect(
      validateEnvironment({
        CONSUMER_LEASE_MS: '3000',
        CONSUMER_HEARTBEAT_MS: '500',
        CONSUMER_SESSION_TIMEOUT_MS: '4000',
      }),
    ).toMatchObject({
      CONSUMER_LEASE_MS: 3000,
      CONSUMER_HEARTBEAT_MS: 500,
      CONSUMER_SESSION_TIMEOUT_MS: 4000,
    });
    expect(() => validateEnvironment({ CONSUMER_LEASE_MS: 'ten' })).toThrow(
      /CONSUMER_LEASE_MS=.*CONSUMER_LEASE_MS must be an integer/,
    );
    expect(() => validateEnvironment({ CONSUMER_SESSION_TIMEOUT_MS: '1.5' })).toThrow(
      /CONSUMER_SESSION_TIMEOUT_MS must be an integer/,
    );
    expect(() => validateEnvironment({ CONSUMER_LEASE_MS: '1000', CONSUMER_HEARTBEAT_MS: '1000' })).toThrow(
      /CONSUMER_HEARTBEAT_MS must be less than CONSUMER_LEASE_MS \(1000\)/,
    );
  });
});
