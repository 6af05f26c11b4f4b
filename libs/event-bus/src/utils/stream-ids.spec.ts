import { compareIds, idBeforeTime, nextId, previousId, rangeBound } from './stream-ids';

describe('stream ids', () => {
  it('orders ids by time then sequence, numerically', () => {
    expect(compareIds('10-2', '9-5')).toBe(1);
    expect(compareIds('10-2', '10-10')).toBe(-1);
    expect(compareIds('10-0', '10')).toBe(0);
  });

  it('steps past an id, carrying into the next millisecond at the last sequence', () => {
    expect(nextId('5-3')).toBe('5-4');
    expect(nextId('5-18446744073709551615')).toBe('6-0');
    expect(previousId('5-3')).toBe('5-2');
    expect(previousId('6-0')).toBe('5-18446744073709551615');
  });

  it('turns ISO times into range bounds that include the whole millisecond', () => {
    const ms = Date.parse('2026-11-26T10:00:00.000Z');
    expect(rangeBound('2026-11-26T10:00:00.000Z', 'start')).toBe(`${ms}-0`);
    expect(rangeBound('2026-11-26T10:00:00.000Z', 'end')).toBe(`${ms}-18446744073709551615`);
    expect(rangeBound(undefined, 'start')).toBe('-');
    expect(rangeBound('17-1', 'end')).toBe('17-1');
    expect(() => rangeBound('yesterday', 'start')).toThrow(/neither a stream id/);
    expect(compareIds(idBeforeTime(ms), `${ms}-0`)).toBe(-1);
  });
});
