import { SentMarkers } from './sent-markers';

describe('SentMarkers', () => {
  it('trusts a read taken after the marker went out, and a "not handled" read of a marker never sent', () => {
    const log = new SentMarkers(10);
    log.sending(['m1']);
    const read = log.reading();
    expect(log.verdict('m1', read, true)).toBe(true);
    expect(log.verdict('m2', read, false)).toBe(false);
  });

  it('overrides a "not handled" read taken before the marker was sent', () => {
    const log = new SentMarkers(10);
    const read = log.reading();
    log.sending(['m1']);
    expect(log.verdict('m1', read, false)).toBe(true);
  });

  it('counts a marker acknowledged but not yet sent as handled', () => {
    const log = new SentMarkers(10);
    const read = log.reading();
    log.acking('m1');
    expect(log.verdict('m1', read, false)).toBe(true);
    log.sending(['m1']);
    expect(log.verdict('m1', read, false)).toBe(true);
  });

  it('refuses to judge a read older than the markers it forgot', () => {
    const log = new SentMarkers(2);
    const read = log.reading();
    log.sending(['a']);
    log.sending(['b']);
    log.sending(['c']);
    expect(log.verdict('zzz', read, false)).toBeUndefined();
    expect(log.verdict('c', log.reading(), false)).toBe(false);
  });
});
