import { EventStoreKeys, fromStreamName, toStreamName } from './keys';

describe('EventStoreKeys', () => {
  const keys = new EventStoreKeys('shop');

  it('puts a stream, its meta and its snapshot under one hash tag', () => {
    const name = toStreamName('Account', '2f1c-77');
    expect(name).toBe('Account-2f1c-77');
    expect(keys.stream(name)).toBe('shop:es:{Account-2f1c-77}');
    expect(keys.meta(name)).toBe('shop:es:{Account-2f1c-77}:meta');
    expect(keys.snapshot(name)).toBe('shop:es:{Account-2f1c-77}:snapshot');
  });

  it('splits a stream name at its first dash', () => {
    expect(fromStreamName('Account-2f1c-77')).toEqual({ aggregateType: 'Account', id: '2f1c-77' });
    expect(() => fromStreamName('-x')).toThrow(/not allowed/);
  });

  it('maps stream keys back to names, and only stream keys', () => {
    expect(keys.streamName('shop:es:{Account-1}')).toBe('Account-1');
    expect(keys.streamName('shop:es:{Account-1}:snapshot')).toBeUndefined();
    expect(keys.streamName('other:es:{Account-1}')).toBeUndefined();
    expect(keys.streamPattern('Account')).toBe('shop:es:{Account-*}');
  });

  it('refuses names that could escape the hash tag or a namespace with spaces', () => {
    expect(() => keys.stream('Account-{1}')).toThrow(/not allowed/);
    expect(() => keys.stream('')).toThrow(/not allowed/);
    expect(() => toStreamName('Account-x', '1')).toThrow(/no '-'/);
    expect(() => new EventStoreKeys('a b')).toThrow(/namespace "a b"/);
  });
});
