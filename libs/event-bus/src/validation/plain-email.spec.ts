import { isEmail } from 'class-validator';
import { isPlainEmail } from './schema-keywords';

/** The fast path may only accept what validator.js's isEmail accepts (it is tried first). */
describe('isPlainEmail', () => {
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = (alphabet: string, min: number, max: number): string =>
    Array.from(
      { length: min + Math.floor(random() * (max - min + 1)) },
      () => alphabet[Math.floor(random() * alphabet.length)],
    ).join('');

  it('accepts nothing validator.js rejects, over 20k generated addresses', () => {
    const local = 'abcXYZ019._-+%';
    const domain = 'abcxyz019-.';
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const address = `${pick(local, 0, 70)}@${pick(domain, 0, 30)}.${pick('abcdefxyz0-', 0, 6)}${random() < 0.05 ? pick('!#$&*=?^`{|}~"@', 1, 1) : ''}`;
      if (isPlainEmail(address)) {
        accepted++;
        expect([address, isEmail(address)]).toEqual([address, true]);
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it.each(['ada@example.com', 'first.last+tag@mail.shop.example.org', 'a_b-c%d@x-y.io'])(
    'takes the common %s',
    (address) => {
      expect(isPlainEmail(address)).toBe(true);
      expect(isEmail(address)).toBe(true);
    },
  );

  it.each([
    'a..b@example.com',
    '.a@example.com',
    'a@-example.com',
    'a@example.c',
    'a@example',
    `${'x'.repeat(65)}@example.com`,
  ])('leaves %s to validator.js', (address) => {
    expect(isPlainEmail(address)).toBe(false);
  });
});
