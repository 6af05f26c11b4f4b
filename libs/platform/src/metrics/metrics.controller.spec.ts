import { NotFoundException } from '@nestjs/common';
import { EventBusCore } from '@nest-streams/event-bus';
import { EventBusMetrics } from '@nest-streams/event-bus/observability/metrics';
import { MetricsController } from './metrics.controller';

describe('MetricsController', () => {
  it('answers with the registry in its content type', async () => {
    const metrics = new EventBusMetrics({ processMetrics: false });
    metrics.published('orders', 'OrderPlaced');
    const headers: Record<string, string> = {};
    const body = await new MetricsController({ metrics } as EventBusCore).scrape({
      setHeader: (name, value) => (headers[name] = value),
    });
    expect(body).toContain('eventbus_events_published_total{stream="orders",type="OrderPlaced"} 1');
    expect(headers['Content-Type']).toBe(metrics.registry.contentType);
  });

  it('is a 404 where the bus runs with `metrics: false`', async () => {
    await expect(
      new MetricsController({} as EventBusCore).scrape({ setHeader: () => undefined }),
    ).rejects.toBeInstanceOf(NotFoundException);
  });
});
