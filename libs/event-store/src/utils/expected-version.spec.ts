import { encodeExpectedVersion, matchesExpectedVersion } from './expected-version';

describe('expected versions', () => {
  it.each([
    [undefined, 'any'],
    ['any', 'any'],
    ['no-stream', 'no-stream'],
    [0, '0'],
    [42, '42'],
  ] as const)('encodes %p as %p', (expected, encoded) => {
    expect(encodeExpectedVersion(expected)).toBe(encoded);
  });

  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2])('refuses %p', (expected) => {
    expect(() => encodeExpectedVersion(expected)).toThrow(/expectedVersion/);
  });

  it('matches as the append script does', () => {
    expect(matchesExpectedVersion('any', 7)).toBe(true);
    expect(matchesExpectedVersion(undefined, 0)).toBe(true);
    expect(matchesExpectedVersion('no-stream', 0)).toBe(true);
    expect(matchesExpectedVersion('no-stream', 1)).toBe(false);
    expect(matchesExpectedVersion(3, 3)).toBe(true);
    expect(matchesExpectedVersion(3, 4)).toBe(false);
  });
});
