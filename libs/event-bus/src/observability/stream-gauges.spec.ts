import { Registry } from 'prom-client';
import { streamGauges } from './stream-gauges';
import { mergePartitionStats, type StreamStats } from './stream-stats';

describe('StreamGauges', () => {
  const orders: StreamStats = {
    stream: 'orders',
    length: 12,
    deadLetters: 2,
    groups: [
      { group: 'payment', lag: 3, pending: 1 },
      { group: 'audit', lag: undefined, pending: 0 },
    ],
  };

  it('fills the four gauges from one sample per scrape, leaving out a lag Redis cannot tell', async () => {
    const registry = new Registry();
    const sampler = jest.fn(async () => [orders]);
    streamGauges(registry, 'eventbus_').samplers.add(sampler);
    const text = await registry.metrics();
    expect(sampler).toHaveBeenCalledTimes(1);
    expect(text).toContain('eventbus_stream_length{stream="orders"} 12');
    expect(text).toContain('eventbus_dead_letters{stream="orders"} 2');
    expect(text).toContain('eventbus_group_pending{stream="orders",group="payment"} 1');
    expect(text).toContain('eventbus_group_pending{stream="orders",group="audit"} 0');
    expect(text).toContain('eventbus_group_lag{stream="orders",group="payment"} 3');
    expect(text).not.toContain('eventbus_group_lag{stream="orders",group="audit"}');
    await registry.metrics();
    expect(sampler).toHaveBeenCalledTimes(2);
  });

  it('drops the series of a scrape that got nothing (Redis away) instead of repeating stale values', async () => {
    const registry = new Registry();
    let answer: StreamStats[] = [orders];
    streamGauges(registry, 'eventbus_').samplers.add(async () => answer);
    expect(await registry.metrics()).toContain('eventbus_stream_length{stream="orders"} 12');
    answer = [];
    expect(await registry.metrics()).not.toContain('eventbus_stream_length{stream="orders"}');
  });

  it('reports every bus that shares a registry through the same gauges', async () => {
    const registry = new Registry();
    streamGauges(registry, 'eventbus_').samplers.add(async () => [orders]);
    streamGauges(registry, 'eventbus_').samplers.add(async () => [
      { stream: 'payments', length: 5, deadLetters: 0, groups: [] },
    ]);
    const text = await registry.metrics();
    expect(text).toContain('eventbus_stream_length{stream="orders"} 12');
    expect(text).toContain('eventbus_stream_length{stream="payments"} 5');
  });

  it('reports a partitioned stream once, summed over its partitions, with no lag when a partition cannot tell it', async () => {
    const registry = new Registry();
    const merged = mergePartitionStats([
      {
        stream: 'orders',
        length: 5,
        deadLetters: 1,
        groups: [
          { group: 'payment', lag: 2, pending: 1 },
          { group: 'audit', lag: 1, pending: 0 },
        ],
      },
      {
        stream: 'orders',
        length: 7,
        deadLetters: 0,
        groups: [
          { group: 'payment', lag: 3, pending: 2 },
          { group: 'audit', lag: undefined, pending: 4 },
        ],
      },
      { stream: 'orders', length: 0, deadLetters: 2, groups: [] },
    ]);
    expect(merged).toEqual({
      stream: 'orders',
      length: 12,
      deadLetters: 3,
      groups: [
        { group: 'payment', lag: 5, pending: 3 },
        { group: 'audit', lag: undefined, pending: 4 },
      ],
    });
    streamGauges(registry, 'eventbus_').samplers.add(async () => [merged]);
    const text = await registry.metrics();
    expect(text).toContain('eventbus_stream_length{stream="orders"} 12');
    expect(text).toContain('eventbus_dead_letters{stream="orders"} 3');
    expect(text).toContain('eventbus_group_lag{stream="orders",group="payment"} 5');
    expect(text).toContain('eventbus_group_pending{stream="orders",group="audit"} 4');
    expect(text).not.toContain('eventbus_group_lag{stream="orders",group="audit"}');
  });
});
