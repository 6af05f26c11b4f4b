import { Deadlines } from './deadlines';

describe('Deadlines', () => {
  it('passes through what settles in time and stops its timer when nothing is watched', async () => {
    const deadlines = new Deadlines(5);
    await expect(deadlines.race(Promise.resolve(7), Date.now() + 1_000, () => new Error('late'))).resolves.toBe(7);
    await expect(
      deadlines.race(Promise.reject(new Error('no')), Date.now() + 1_000, () => new Error('late')),
    ).rejects.toThrow('no');
    expect(deadlines.size).toBe(0);
  });

  it('rejects with the timeout error once the deadline passes, within the resolution', async () => {
    const deadlines = new Deadlines(5);
    const began = Date.now();
    const never = new Promise<number>(() => undefined);
    await expect(deadlines.race(never, began + 40, () => new Error('no answer'))).rejects.toThrow('no answer');
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(39);
    expect(deadlines.size).toBe(0);
  });

  it('fails only the expired ones and keeps watching the rest', async () => {
    const deadlines = new Deadlines(5);
    let finish!: (v: string) => void;
    const slow = new Promise<string>((r) => (finish = r));
    const early = deadlines.race(
      new Promise<string>(() => undefined),
      Date.now() + 20,
      () => new Error('early expired'),
    );
    const later = deadlines.race(slow, Date.now() + 5_000, () => new Error('later expired'));
    await expect(early).rejects.toThrow('early expired');
    expect(deadlines.size).toBe(1);
    finish('done');
    await expect(later).resolves.toBe('done');
    expect(deadlines.size).toBe(0);
  });
});
