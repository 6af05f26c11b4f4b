import {
  cell,
  deadLettersTable,
  entryLine,
  errorLines,
  exitCodeFor,
  formatDuration,
  formatEta,
  formatRate,
  formatTime,
  progressText,
  groupsTable,
  percent,
  replayLine,
  retentionCell,
  streamsTable,
  table,
} from './format';
import { OpsConnectionError, OpsHttpError, UsageError } from './ops-client';

describe('table', () => {
  it('pads columns two spaces apart, right-aligns numbers, cuts long cells, trims the last column', () => {
    const text = table<{ name: string; n: number; note: string }>(
      [
        { header: 'NAME', value: (r) => r.name },
        { header: 'N', value: (r) => r.n, align: 'right' },
        { header: 'NOTE', value: (r) => r.note, max: 8 },
      ],
      [
        { name: 'orders', n: 1523, note: 'short' },
        { name: 'payments', n: 7, note: 'much longer than eight' },
      ],
    );
    expect(text.split('\n')).toEqual(['NAME         N  NOTE', 'orders    1523  short', 'payments     7  much lo…']);
  });

  it('a header only for no rows', () => {
    expect(table([{ header: 'A', value: () => 1 }], [])).toBe('A');
  });
});

describe('cell', () => {
  it.each([
    [null, '-'],
    [undefined, '-'],
    ['', '-'],
    [0, '0'],
    [false, 'false'],
    [['a', 'b'], 'a,b'],
    [[], '-'],
    [{ maxLength: 5, other: null }, 'maxLength=5'],
    [{ nested: { a: 1 } }, 'nested={"a":1}'],
  ])('%p -> %p', (value, text) => expect(cell(value)).toBe(text));
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999, '999ms'],
    [1000, '1.0s'],
    [45_000, '45.0s'],
    [59_949, '59.9s'],
    [60_000, '1m00s'],
    [245_000, '4m05s'],
    [3_725_000, '1h02m'],
    [86_400_000 * 2 + 3_600_000 * 4, '2d04h'],
  ])('%p ms -> %p', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it.each([null, undefined, NaN, -1, Infinity])('%p -> -', (ms) => expect(formatDuration(ms)).toBe('-'));
});

describe('formatEta, formatRate, progressText', () => {
  it('eta', () => {
    expect([formatEta(null), formatEta(0), formatEta(4), formatEta(4.2), formatEta(245)]).toEqual([
      '-',
      '0s',
      '4s',
      '5s',
      '4m05s',
    ]);
  });

  it('rates', () => {
    expect([formatRate(4980.5), formatRate(12.4), formatRate(0.54)]).toEqual(['4981', '12', '0.5']);
  });

  it('progress, with ? until the total is counted', () => {
    expect([progressText(0, 0), progressText(3, 0), progressText(20, 80)]).toEqual(['0/?', '3/?', '20/80 (25%)']);
  });
});

describe('formatTime, retentionCell, percent', () => {
  it('times', () => {
    expect(formatTime('2025-01-06T09:00:00.000Z')).toBe('2025-01-06T09:00:00.000Z');
    expect(formatTime(1736154000000)).toBe('2025-01-06T09:00:00.000Z');
    expect(formatTime(null)).toBe('-');
  });

  it('retention policies', () => {
    expect(retentionCell(null)).toBe('-');
    expect(retentionCell({})).toBe('-');
    expect(retentionCell({ maxLength: 1_000_000 })).toBe('maxLength=1000000');
    expect(retentionCell({ maxAgeMs: 604_800_000 })).toBe('maxAge=7d00h');
    expect(retentionCell({ maxLength: 10, maxAgeMs: 3_600_000 })).toBe('maxLength=10 maxAge=1h00m');
    expect(retentionCell('7d')).toBe('7d');
  });

  it('percent never divides by zero nor passes 100', () => {
    expect([percent(0, 0), percent(5, 0), percent(1, 3), percent(60, 60), percent(70, 60)]).toEqual([
      0, 100, 33, 100, 100,
    ]);
  });
});

describe('tables of the API shapes', () => {
  it('streams: groups given as names are counted; nothing is a sentence', () => {
    const text = streamsTable([
      {
        stream: 'orders',
        length: 2,
        firstId: '1-0',
        lastId: '2-0',
        firstTime: 1,
        lastTime: 2,
        groups: ['a', 'b'],
        retention: null,
        deadLetters: 0,
      },
    ]);
    expect(text.split('\n')[1].split(/\s{2,}/)).toEqual([
      'orders',
      '2',
      '1-0',
      '2-0',
      '1970-01-01T00:00:00.001Z',
      '1970-01-01T00:00:00.002Z',
      '2',
      '0',
      '-',
    ]);
    expect(streamsTable([])).toBe('No streams.');
    expect(groupsTable('orders', [])).toBe('No consumer groups read orders.');
    expect(deadLettersTable('orders', [])).toBe('No dead letters in orders match.');
  });

  it('groups without consumers print only the group table', () => {
    expect(groupsTable('orders', [{ group: 'g', lag: null, pending: 0, lastDeliveredId: '0-0', consumers: [] }])).toBe(
      'GROUP  LAG  PENDING  LAST DELIVERED  CONSUMERS\ng        -        0  0-0                     0',
    );
  });
});

describe('entryLine', () => {
  const entry = {
    id: '1736154000000-0',
    time: '2025-01-06T09:00:00.000Z',
    type: 'OrderPlaced',
    version: 1,
    source: 'order-service',
    subject: 'ORD-7701',
    eventId: 'e',
    data: { orderId: 'ORD-7701' },
  };

  it('time, id, type@version, subject, source, data', () => {
    expect(entryLine(entry)).toBe(
      '2025-01-06T09:00:00.000Z  1736154000000-0  OrderPlaced@v1  ORD-7701  order-service  {"orderId":"ORD-7701"}',
    );
  });

  it('shows a contract breaker as it is, and cuts to the terminal width', () => {
    expect(entryLine({ ...entry, subject: null, data: 'not json{' })).toContain(
      'OrderPlaced@v1  -  order-service  not json{',
    );
    expect(entryLine(entry, 30)).toBe('2025-01-06T09:00:00.000Z  173…');
  });
});

describe('replayLine', () => {
  it('shows what is known', () => {
    expect(replayLine({ id: 'r1', state: 'queued', done: 0, total: 0 })).toBe('replay r1 queued');
    expect(replayLine({ id: 'r1', state: 'running', done: 120, total: 500, ratePerSec: 100, etaSeconds: 4 })).toBe(
      'replay r1 running 120/500 (24%) 100/s eta 4s',
    );
    expect(replayLine({ id: 'r1', state: 'running', done: 7, total: 0, ratePerSec: 4980.5, etaSeconds: null })).toBe(
      'replay r1 running 7/? 4981/s',
    );
    expect(replayLine({ id: 'r1', state: 'failed', done: 3, total: 9, error: 'NOGROUP' })).toBe(
      'replay r1 failed 3/9 (33%) error: NOGROUP',
    );
  });
});

describe('errorLines and exitCodeFor', () => {
  const http = (status: number, body: object) =>
    new OpsHttpError(status, { statusCode: status, ...body }, 'GET', 'http://h:3000/ops/streams/x/groups');

  it('401 and 403 say what to do', () => {
    expect(errorLines(http(401, { error: 'Unauthorized', message: 'unknown API key (x-api-key)' }))).toEqual([
      'error: 401 Unauthorized: unknown API key (x-api-key)',
      '  the API key is missing or not accepted: pass --api-key <key> or set API_KEY',
    ]);
    expect(errorLines(http(403, { error: 'Forbidden', message: 'no' }))[1]).toContain("operator's key");
  });

  it('404 names the request; a message equal to the error is not repeated; arrays are joined', () => {
    expect(errorLines(http(404, { error: 'Not Found', message: 'Not Found' }))).toEqual([
      'error: 404 Not Found',
      '  (GET /ops/streams/x/groups)',
    ]);
    expect(errorLines(http(400, { error: 'Bad Request', message: ['a must be set', 'b too'] }))).toEqual([
      'error: 400 Bad Request: a must be set; b too',
    ]);
  });

  it('lists details field by field', () => {
    const lines = errorLines(
      http(400, {
        error: 'Bad Request',
        message: 'invalid',
        details: [{ field: 'target.group', messages: ['group must match', 'group must be short'] }],
      }),
    );
    expect(lines).toEqual([
      'error: 400 Bad Request: invalid',
      '  - target.group: group must match; group must be short',
    ]);
  });

  it('exit codes: 1 for usage and 4xx, 2 for 5xx, network and anything unexpected', () => {
    expect(exitCodeFor(new UsageError('x'))).toBe(1);
    expect(exitCodeFor(http(400, {}))).toBe(1);
    expect(exitCodeFor(http(429, {}))).toBe(1);
    expect(exitCodeFor(http(503, {}))).toBe(2);
    expect(exitCodeFor(new OpsConnectionError('http://h', 'ECONNREFUSED', 'x'))).toBe(2);
    expect(exitCodeFor(new Error('bug'))).toBe(2);
  });
});
