import { randomUUID } from 'node:crypto';
import { CLUSTER_SLOTS, assertPartitions, keySlotOf, partitionOf, partitionTag } from './partition';

describe('partition', () => {
  // Answers of `redis-cli -p <port> CLUSTER KEYSLOT <key>` from a cluster-enabled Redis 7.0.15
  // (the repo's test machine), read by hand when partition.ts was written.
  const KNOWN_SLOTS: Array<[string, number]> = [
    ['123456789', 12739], // the CRC16-XMODEM check value 0x31C3, masked to 14 bits
    ['foo', 12182],
    ['bar', 5061],
    ['ORD-7701', 15887],
    ['ORD-1', 15207],
    ['ORD-2', 2820],
    ['6b3f1d4e-2c9a-4f6b-9a1e-3d2c1b0a9f8e', 13341],
    ['shop/0', 9522],
    ['shop/15', 2636],
    ['', 0],
    ['é', 10180],
    ['😀', 2959],
    ['{user1000}.following', 3443],
    ['order:{ORD-7701}:x', 15887],
    ['{shop/0}', 9522],
    ['foo{bar}{zap}', 5061],
    ['foo{{bar}}', 4015],
    ['{bar', 4015],
    ['x{a{b}c', 13340],
    ['a{b}}', 3300],
    ['a}b{c', 13587],
    ['{', 4092],
    ['{}', 15257],
    // An empty first tag means "hash the whole key"; cluster-key-slot 1.1.1 alone answers
    // 4015, 3300 and 16287 for these three.
    ['foo{}{bar}', 8363],
    ['a{}b}', 14284],
    ['{}x}', 10489],
    // A lone surrogate goes over the wire as U+FFFD (EF BF BD), as ioredis sends it.
    ['\ud800', 13381],
    ['a\udc00b', 5618],
  ];

  it.each(KNOWN_SLOTS)('computes CLUSTER KEYSLOT %j = %d', (key, slot) => {
    expect(keySlotOf(key)).toBe(slot);
  });

  it('is CLUSTER KEYSLOT mod P', () => {
    expect(partitionOf('ORD-7701', 1)).toBe(0);
    expect(partitionOf('ORD-7701', 16)).toBe(15887 % 16);
    expect(partitionOf('ORD-7701', 1024)).toBe(15887 % 1024);
    expect(partitionOf('foo', 4)).toBe(12182 % 4);
  });

  it('honours hash tags: only the first non-empty {...} counts', () => {
    for (const subject of ['ORD-7701', 'ORD-1', randomUUID()]) {
      const p = partitionOf(subject, 1024);
      expect(partitionOf(`{${subject}}`, 1024)).toBe(p);
      expect(partitionOf(`lines:{${subject}}:3`, 1024)).toBe(p);
      expect(partitionOf(`x{${subject}}{other}`, 1024)).toBe(p);
    }
    expect(keySlotOf('{a}{b}')).toBe(keySlotOf('a'));
    expect(keySlotOf('{}{b}')).not.toBe(keySlotOf('b'));
  });

  it('puts every copy of a subject in one partition (pure function)', () => {
    const subject = randomUUID();
    const first = partitionOf(subject, 16);
    for (let i = 0; i < 10; i++) expect(partitionOf(subject, 16)).toBe(first);
  });

  it('nests: the partition for P is the partition for 2P mod P', () => {
    for (let i = 0; i < 500; i++) {
      const subject = randomUUID();
      expect(partitionOf(subject, 8)).toBe(partitionOf(subject, 16) % 8);
    }
  });

  it.each([1, 2, 4, 16, 256, 1024])('accepts %d partitions (divides %d slots)', (p) => {
    expect(assertPartitions(p)).toBe(p);
    expect(CLUSTER_SLOTS % p).toBe(0);
  });

  it.each([0, -1, 3, 6, 12, 1000, 2048, 1.5, NaN, Infinity])(
    'refuses %p partitions, naming the value and the rule',
    (p) => {
      expect(() => assertPartitions(p)).toThrow(
        `partitions must be a power of two from 1 to 1024 (1, 2, 4, ..., 1024), got ${p}`,
      );
      expect(() => partitionOf('ORD-1', p)).toThrow(/power of two/);
    },
  );

  it('spreads 10k random subjects evenly over 16 partitions', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 10_000; i++)
      counts[partitionOf(i % 2 ? randomUUID() : `ORD-${Math.floor(Math.random() * 1e9)}`, 16)]++;
    // 625 expected each; one standard deviation is ~24, so ±20% is ~5 sigma.
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...counts)).toBeLessThanOrEqual(750);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  describe('partitionTag', () => {
    it('is <ns>/<k>', () => {
      expect(partitionTag('shop', 0)).toBe('shop/0');
      expect(partitionTag('shop', 15)).toBe('shop/15');
      expect(keySlotOf(`shop:{${partitionTag('shop', 3)}}:orders`)).toBe(keySlotOf('shop/3'));
    });

    it('refuses a bad namespace or index', () => {
      expect(() => partitionTag('a b', 0)).toThrow(/not allowed/);
      expect(() => partitionTag('shop', -1)).toThrow(/partition index/);
      expect(() => partitionTag('shop', 1.5)).toThrow(/partition index/);
      expect(() => partitionTag('shop', 1024)).toThrow(/partition index/);
    });
  });
});
