import { formatLiveId, parseLiveId } from './live-event-id';

describe('live event ids', () => {
  it('carry the last sample time and, with a tail, the last entry id of each partition', () => {
    expect(formatLiveId({ time: 1700000000000 })).toBe('1700000000000');
    const id = formatLiveId({ time: 1700000000000, tail: ['1700000000000-3', '0-0'] });
    expect(id).toBe('1700000000000~1700000000000-3,0-0');
    expect(parseLiveId(id, 2)).toEqual({ time: 1700000000000, tail: ['1700000000000-3', '0-0'] });
    expect(parseLiveId('1700000000000', 2)).toEqual({ time: 1700000000000 });
  });

  it('refuses a malformed id, or tail positions that are not one per partition', () => {
    for (const bad of ['', 'x', '17~', '17~1-0~2-0', '17~1-0,x', '17~1', '-1', '17.5'])
      expect(parseLiveId(bad, 1)).toBeUndefined();
    expect(parseLiveId('17~1-0', 2)).toBeUndefined();
    expect(parseLiveId('17~1-0,2-0', 1)).toBeUndefined();
  });
});
