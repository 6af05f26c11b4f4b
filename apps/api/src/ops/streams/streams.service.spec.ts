import { matches, toEntry } from './streams.service';

describe('entry listing', () => {
  const placed = { type: 'OrderPlaced', subject: 'ORD-1', data: '{"sku":"SKU-MUG","note":"Gift Wrap"}' };

  it('passes an entry that meets every filter given, and none that misses one', () => {
    expect(matches({}, placed)).toBe(true);
    expect(matches({ type: 'OrderPlaced', subject: 'ORD-1', text: 'sku-mug' }, placed)).toBe(true);
    expect(matches({ text: 'gift wrap' }, placed)).toBe(true);
    expect(matches({ type: 'OrderConfirmed' }, placed)).toBe(false);
    expect(matches({ subject: 'ORD-2' }, placed)).toBe(false);
    expect(matches({ text: 'SKU-PEN' }, placed)).toBe(false);
    // The text is looked for in the payload only, not in the envelope.
    expect(matches({ text: 'OrderPlaced' }, placed)).toBe(false);
    expect(matches({ text: 'x' }, { type: 'OrderPlaced' })).toBe(false);
  });

  it('decodes the payload, and keeps a payload that is not JSON as its text', () => {
    expect(toEntry('1-0', placed).data).toEqual({ sku: 'SKU-MUG', note: 'Gift Wrap' });
    expect(toEntry('1-0', { type: 'Broken', data: '{not json' }).data).toBe('{not json');
  });
});
