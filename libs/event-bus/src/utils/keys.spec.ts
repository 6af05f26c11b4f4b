import { EventBusKeys } from './keys';

describe('EventBusKeys', () => {
  const keys = new EventBusKeys('shop');

  it('puts a stream and its dead-letter stream in one cluster slot (same hash tag)', () => {
    expect(keys.stream('orders')).toBe('shop:{orders}');
    expect(keys.deadLetter('orders')).toBe('shop:{orders}:dlq');
  });

  it('maps a stream key back to its name and refuses foreign keys', () => {
    expect(keys.streamName('shop:{orders}')).toBe('orders');
    expect(keys.streamName('other:{orders}')).toBeUndefined();
    expect(keys.streamName('shop:{orders}:dlq')).toBeUndefined();
  });

  it.each(['', 'a b', 'x}y', 'a\r\nb', '*', 'x{y'])('refuses the stream name %j', (name) => {
    expect(() => keys.stream(name)).toThrow(/not allowed/);
  });
});
