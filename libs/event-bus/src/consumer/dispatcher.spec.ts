import { Dispatcher } from './dispatcher';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Dispatcher', () => {
  it('never runs more than `concurrency` tasks at once', async () => {
    const dispatcher = new Dispatcher(3);
    let running = 0;
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      dispatcher.submit(undefined, async () => {
        running++;
        peak = Math.max(peak, running);
        await tick(2);
        running--;
      });
    }
    await dispatcher.idle();
    expect(peak).toBe(3);
    expect(dispatcher.size).toBe(0);
  });

  it('runs tasks of one subject in submission order, one at a time, while other subjects overlap', async () => {
    const dispatcher = new Dispatcher(8);
    const log: string[] = [];
    const active = new Set<string>();
    let overlapSameSubject = false;
    let overlapAcrossSubjects = false;
    for (let i = 0; i < 5; i++) {
      for (const subject of ['a', 'b']) {
        dispatcher.submit(subject, async () => {
          if (active.has(subject)) overlapSameSubject = true;
          active.add(subject);
          if (active.size > 1) overlapAcrossSubjects = true;
          // later tasks finish sooner: without ordering they would overtake
          await tick(10 - i * 2);
          log.push(`${subject}${i}`);
          active.delete(subject);
        });
      }
    }
    await dispatcher.idle();
    expect(log.filter((x) => x.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(log.filter((x) => x.startsWith('b'))).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(overlapSameSubject).toBe(false);
    expect(overlapAcrossSubjects).toBe(true);
  });

  it('keeps a subject chain going after a task throws', async () => {
    const dispatcher = new Dispatcher(2);
    const done: number[] = [];
    dispatcher.submit('s', async () => {
      throw new Error('boom');
    });
    dispatcher.submit('s', async () => {
      done.push(2);
    });
    await dispatcher.idle();
    expect(done).toEqual([2]);
  });

  it('lets other tasks use the slot while one pauses, and keeps the paused task first in its subject', async () => {
    const dispatcher = new Dispatcher(1);
    const log: string[] = [];
    dispatcher.submit('s', async (pause) => {
      log.push('s1 start');
      await pause(tick(30));
      log.push('s1 end');
    });
    dispatcher.submit('s', async () => {
      log.push('s2');
    });
    dispatcher.submit('t', async () => {
      log.push('t1');
    });
    await dispatcher.idle();
    expect(log).toEqual(['s1 start', 't1', 's1 end', 's2']);
  });

  it('below(limit) waits until enough tasks have finished', async () => {
    const dispatcher = new Dispatcher(1);
    for (let i = 0; i < 4; i++)
      dispatcher.submit(undefined, async () => {
        await tick(5);
      });
    expect(dispatcher.size).toBe(4);
    await dispatcher.below(2);
    expect(dispatcher.size).toBeLessThan(2);
    await dispatcher.idle();
  });
});
