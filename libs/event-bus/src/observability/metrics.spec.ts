import { Registry } from 'prom-client';
import { EventBusMetrics, type MetricsRegistry } from './metrics';

/** The value of one series (`name` may be a histogram's `_bucket`, `_sum` or `_count`), by its exact labels; undefined when absent. */
async function value(bus: MetricsRegistry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  // NOTE: the bus types its registry structurally; it is a prom-client Registry.
  const registry = bus as Registry;
  const metric = registry.getSingleMetric(name) ?? registry.getSingleMetric(name.replace(/_(bucket|sum|count)$/, ''));
  if (!metric) throw new Error(`${name} is not registered`);
  const data = await metric.get();
  const found = (
    data.values as Array<{ metricName?: string; labels: Record<string, string | number | undefined>; value: number }>
  ).find(
    (v) =>
      (v.metricName ?? data.name) === name &&
      Object.keys(v.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l),
  );
  return found?.value;
}

describe('EventBusMetrics', () => {
  const route = { stream: 'orders', type: 'OrderPlaced', group: 'payment' };

  it('counts publishes and publish failures by stream and type', async () => {
    const metrics = new EventBusMetrics({ processMetrics: false });
    metrics.published('orders', 'OrderPlaced');
    metrics.published('orders', 'OrderPlaced', 2);
    metrics.published('orders', 'OrderCancelled');
    metrics.publishFailed('orders', 'OrderPlaced', 4);
    const r = metrics.registry;
    expect(await value(r, 'eventbus_events_published_total', { stream: 'orders', type: 'OrderPlaced' })).toBe(3);
    expect(await value(r, 'eventbus_events_published_total', { stream: 'orders', type: 'OrderCancelled' })).toBe(1);
    expect(await value(r, 'eventbus_events_publish_failed_total', { stream: 'orders', type: 'OrderPlaced' })).toBe(4);
  });

  it('counts every outcome of a route under its stream, type and group', async () => {
    const metrics = new EventBusMetrics({ processMetrics: false });
    const payment = metrics.forRoute(route.stream, route.type, route.group);
    payment.delivered();
    payment.delivered();
    payment.failed();
    payment.retried();
    payment.acked();
    payment.duplicate();
    payment.deadLettered('handler-failed');
    payment.deadLettered('handler-failed');
    payment.deadLettered('invalid-payload');
    metrics.forRoute(route.stream, route.type, 'shipping').delivered();
    const r = metrics.registry;
    expect(await value(r, 'eventbus_events_delivered_total', route)).toBe(2);
    expect(await value(r, 'eventbus_events_delivered_total', { ...route, group: 'shipping' })).toBe(1);
    expect(await value(r, 'eventbus_events_failed_total', route)).toBe(1);
    expect(await value(r, 'eventbus_events_retried_total', route)).toBe(1);
    expect(await value(r, 'eventbus_events_acked_total', route)).toBe(1);
    expect(await value(r, 'eventbus_events_duplicates_total', route)).toBe(1);
    expect(await value(r, 'eventbus_events_dead_lettered_total', { ...route, reason: 'handler-failed' })).toBe(2);
    expect(await value(r, 'eventbus_events_dead_lettered_total', { ...route, reason: 'invalid-payload' })).toBe(1);
    expect(await value(r, 'eventbus_events_acked_total', { ...route, group: 'shipping' })).toBe(0);
  });

  it('resolves a route once and hands back the same instruments after', () => {
    const metrics = new EventBusMetrics({ processMetrics: false });
    const first = metrics.forRoute('orders', 'OrderPlaced', 'payment');
    expect(metrics.forRoute('orders', 'OrderPlaced', 'payment')).toBe(first);
    expect(metrics.forRoute('orders', 'OrderPlaced', 'shipping')).not.toBe(first);
  });

  it('observes handler time and publish-to-handled latency, skipping the latter without a publish time', async () => {
    const metrics = new EventBusMetrics({ processMetrics: false });
    const payment = metrics.forRoute(route.stream, route.type, route.group);
    payment.handled(0.004, Date.now() - 1_500);
    payment.handled(0.2, NaN);
    payment.handled(0.003, Date.now() + 60_000);
    const r = metrics.registry;
    expect(await value(r, 'eventbus_handler_duration_seconds_count', route)).toBe(3);
    expect(await value(r, 'eventbus_handler_duration_seconds_bucket', { ...route, le: '0.005' })).toBe(2);
    expect(await value(r, 'eventbus_handler_duration_seconds_sum', route)).toBeCloseTo(0.207);
    expect(await value(r, 'eventbus_publish_to_handled_seconds_count', route)).toBe(2);
    // The entry stamped in the future (clock skew) counts as 0 s, the other one as ~1.5 s.
    expect(await value(r, 'eventbus_publish_to_handled_seconds_bucket', { ...route, le: '0.001' })).toBe(1);
    expect(await value(r, 'eventbus_publish_to_handled_seconds_bucket', { ...route, le: '1' })).toBe(1);
    expect(await value(r, 'eventbus_publish_to_handled_seconds_bucket', { ...route, le: '2.5' })).toBe(2);
  });

  it('keeps two buses with their own registries apart: same names, no collision, separate counts', async () => {
    const a = new EventBusMetrics();
    const b = new EventBusMetrics();
    a.forRoute(route.stream, route.type, route.group).delivered();
    a.forRoute(route.stream, route.type, route.group).delivered();
    b.forRoute(route.stream, route.type, route.group).delivered();
    expect(a.registry).not.toBe(b.registry);
    expect(await value(a.registry, 'eventbus_events_delivered_total', route)).toBe(2);
    expect(await value(b.registry, 'eventbus_events_delivered_total', route)).toBe(1);
    expect(await b.registry.metrics()).toContain('process_cpu_user_seconds_total');
  });

  it('shares the instruments (and process metrics) of a registry two buses are given, instead of failing', async () => {
    const registry = new Registry();
    const a = new EventBusMetrics({ registry });
    const b = new EventBusMetrics({ registry });
    a.published('orders', 'OrderPlaced');
    b.published('orders', 'OrderPlaced');
    a.forRoute(route.stream, route.type, route.group).handled(0.01, Date.now());
    b.forRoute(route.stream, route.type, route.group).handled(0.01, Date.now());
    expect(await value(registry, 'eventbus_events_published_total', { stream: 'orders', type: 'OrderPlaced' })).toBe(2);
    expect(await value(registry, 'eventbus_handler_duration_seconds_count', route)).toBe(2);
    const text = await registry.metrics();
    expect(text.match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);
  });

  it('names every instrument with the prefix, and leaves process metrics out when asked', async () => {
    const metrics = new EventBusMetrics({ prefix: 'shop_bus_', processMetrics: false });
    metrics.published('orders', 'OrderPlaced');
    const text = await metrics.registry.metrics();
    expect(text).toContain('shop_bus_events_published_total{stream="orders",type="OrderPlaced"} 1');
    expect(text).not.toContain('eventbus_');
    expect(text).not.toContain('process_cpu_user_seconds_total');
  });
});
