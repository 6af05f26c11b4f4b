import { trace } from '@opentelemetry/api';
import type { EventContext } from '@nest-streams/event-bus';
import { runInDeliveryContext } from '@nest-streams/event-bus/context/delivery-context';
import { logContextFields } from './log-context';

const delivery = {
  envelope: { id: 'evt-1', type: 'OrderPlaced', correlationid: 'corr-1', causationid: 'cause-1' },
  stream: 'orders',
  entryId: '1700000000000-0',
  group: 'inventory',
  consumer: 'c1',
  deliveryCount: 3,
} as EventContext;

describe('logContextFields (pino mixin)', () => {
  it('adds nothing outside a delivery and without an active span', () => {
    expect(logContextFields()).toEqual({});
  });

  it('names the delivery being handled: event id, type, correlation and causation ids, group, stream, entry, attempt', () => {
    expect(runInDeliveryContext(delivery, logContextFields)).toEqual({
      eventId: 'evt-1',
      eventType: 'OrderPlaced',
      correlationId: 'corr-1',
      causationId: 'cause-1',
      group: 'inventory',
      stream: 'orders',
      entryId: '1700000000000-0',
      attempt: 3,
    });
  });

  it('returns a fresh object each time, since pino merges the line into it', () => {
    const first = runInDeliveryContext(delivery, logContextFields);
    expect(runInDeliveryContext(delivery, logContextFields)).not.toBe(first);
  });

  it('adds the trace and span ids of the active span, and nothing for a span with an invalid context', () => {
    const valid = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    // NOTE: no context manager is registered here (no SDK): the active span is stubbed where the API reads it.
    const active = jest.spyOn(trace, 'getActiveSpan').mockReturnValue(trace.wrapSpanContext(valid));
    try {
      expect(logContextFields()).toEqual({ traceId: valid.traceId, spanId: valid.spanId });
      active.mockReturnValue(trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }));
      expect(logContextFields()).toEqual({});
    } finally {
      active.mockRestore();
    }
  });
});
