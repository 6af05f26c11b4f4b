import type { EventContext } from '@nest-streams/event-bus';
import { runInDeliveryContext } from '@nest-streams/event-bus/context/delivery-context';
import { createRootLogger } from './root-logger';

function capture(): { destination: { write(line: string): void }; lines: string[] } {
  const lines: string[] = [];
  return { destination: { write: (line: string) => void lines.push(line) }, lines };
}

describe('createRootLogger', () => {
  it('writes one JSON object per line: level as a word, ISO time, name, the line fields and msg', () => {
    const { destination, lines } = capture();
    createRootLogger({ name: 'order-service', level: 'info', format: 'json', destination }).info(
      { context: 'OrderService' },
      'order placed',
    );
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ level: 'info', name: 'order-service', context: 'OrderService', msg: 'order placed' });
    expect(new Date(line.time).toISOString()).toBe(line.time);
  });

  it('stamps the lines logged while a delivery is handled, and only those', () => {
    const { destination, lines } = capture();
    const logger = createRootLogger({ level: 'info', format: 'json', destination });
    const delivery = {
      envelope: { id: 'evt-1', type: 'OrderPlaced', correlationid: 'corr-1' },
      stream: 'orders',
      entryId: '1-0',
      group: 'inventory',
      deliveryCount: 1,
    } as EventContext;
    runInDeliveryContext(delivery, () => logger.info({ context: 'ReservationHandler' }, 'reserved'));
    logger.info('idle');
    const [inside, outside] = lines.map((l) => JSON.parse(l));
    expect(inside).toMatchObject({
      eventId: 'evt-1',
      eventType: 'OrderPlaced',
      correlationId: 'corr-1',
      group: 'inventory',
      stream: 'orders',
      entryId: '1-0',
      attempt: 1,
      context: 'ReservationHandler',
    });
    expect(inside).not.toHaveProperty('causationId');
    expect(Object.keys(outside)).toEqual(['level', 'time', 'pid', 'hostname', 'msg']);
  });

  it('drops lines below the level', () => {
    const { destination, lines } = capture();
    const logger = createRootLogger({ level: 'warn', format: 'json', destination });
    logger.info('not written');
    logger.debug('not written');
    logger.warn('written');
    logger.error('written');
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['warn', 'error']);
  });

  it('redacts API keys, authorization and cookies of a logged request', () => {
    const { destination, lines } = capture();
    const headers = {
      'x-api-key': 'operator-secret-0123456789',
      authorization: 'Bearer abc',
      cookie: 'sid=1',
      accept: '*/*',
    };
    createRootLogger({ level: 'info', format: 'json', destination }).info(
      { req: { method: 'GET', headers } },
      'GET /ops/streams 200',
    );
    expect(JSON.parse(lines[0]).req.headers).toEqual({
      'x-api-key': '[redacted]',
      authorization: '[redacted]',
      cookie: '[redacted]',
      accept: '*/*',
    });
  });

  it('writes human-readable lines in the pretty format: time, level, [context] msg, then the other fields', () => {
    const { destination, lines } = capture();
    createRootLogger({ name: 'api', level: 'info', format: 'pretty', destination }).warn(
      { context: 'DeliveryProcessor', eventId: 'evt-1' },
      'retrying',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(api\): \[DeliveryProcessor\] retrying \{"eventId":"evt-1"\}\n$/,
    );
  });
});
