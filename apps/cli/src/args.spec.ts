import { collect, cursorBefore, InvalidArgumentError, positiveInt, readData, resolveUrl, streamPosition } from './args';
import { UsageError } from './ops-client';

describe('positiveInt', () => {
  it('accepts whole numbers from 1', () => {
    expect(positiveInt('1')).toBe(1);
    expect(positiveInt('250')).toBe(250);
  });

  it.each(['0', '-3', '1.5', 'ten', '', '1e3', '99999999999999999999'])(
    'rejects %p as an invalid argument commander reports',
    (value) => {
      expect(() => positiveInt(value)).toThrow(InvalidArgumentError);
      try {
        positiveInt(value);
      } catch (error) {
        expect(error).toMatchObject({ code: 'commander.invalidArgument', exitCode: 1 });
      }
    },
  );
});

describe('collect', () => {
  it('accumulates repeated values', () => {
    expect(collect('b', collect('a', undefined))).toEqual(['a', 'b']);
  });
});

describe('streamPosition', () => {
  it.each(['1736154000000-0', '1736154000000', '0', '2025-01-06T09:00:00Z', '2025-01-06'])('accepts %p', (value) =>
    expect(streamPosition(value)).toBe(value),
  );
  it.each(['yesterday', '1736154000000-x', '-5', 'May 1, 2024', '2025-13-45'])('rejects %p', (value) =>
    expect(() => streamPosition(value)).toThrow(InvalidArgumentError),
  );
});

describe('cursorBefore: the exclusive cursor that makes --from inclusive', () => {
  it.each([
    ['1736154000000-5', '1736154000000-4'],
    ['1736154000000-0', '1736153999999-18446744073709551615'],
    ['1736154000000', '1736153999999-18446744073709551615'],
    ['2025-01-06T09:00:00Z', '1736153999999-18446744073709551615'],
    ['2025-01-06T09:00:00.001Z', '1736154000000-18446744073709551615'],
    ['0-1', '0-0'],
  ])('%p -> %p', (from, cursor) => expect(cursorBefore(from)).toBe(cursor));

  it('the very beginning has no cursor', () => {
    expect(cursorBefore('0')).toBeUndefined();
    expect(cursorBefore('0-0')).toBeUndefined();
    expect(cursorBefore('1970-01-01T00:00:00Z')).toBeUndefined();
  });

  it('keeps sequence numbers beyond 2^53 exact', () => {
    expect(cursorBefore('1-18446744073709551615')).toBe('1-18446744073709551614');
  });
});

describe('readData', () => {
  it('parses JSON objects, from text or stdin', () => {
    expect(readData('{"orderId":"ORD-1"}')).toEqual({ orderId: 'ORD-1' });
    expect(readData('@-', () => '{"a":1}')).toEqual({ a: 1 });
  });

  it('says what is wrong with anything else', () => {
    expect(() => readData('{"a":')).toThrow(UsageError);
    expect(() => readData('{"a":')).toThrow(/^--data is not valid JSON: /);
    expect(() => readData('[1,2]')).toThrow('--data must be a JSON object');
    expect(() => readData('@-', () => 'null')).toThrow('stdin must be a JSON object');
    expect(() => readData('@/definitely/not/here.json')).toThrow(
      'cannot read --data @/definitely/not/here.json: ENOENT',
    );
  });
});

describe('resolveUrl', () => {
  it('--url, else PLATFORM_URL, else the default', () => {
    expect(resolveUrl('http://a', { PLATFORM_URL: 'http://b' }, 'http://c')).toBe('http://a');
    expect(resolveUrl(undefined, { PLATFORM_URL: 'http://b' }, 'http://c')).toBe('http://b');
    expect(resolveUrl(undefined, {}, 'http://c')).toBe('http://c');
  });
});
