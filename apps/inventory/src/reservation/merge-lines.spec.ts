import { mergeLines } from './merge-lines';

describe('mergeLines', () => {
  it('sums the quantities of a sku named twice, keeping the order of first appearance', () => {
    expect(
      mergeLines([
        { sku: 'B', quantity: 1 },
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'B', quantity: 4 },
      { sku: 'A', quantity: 2 },
    ]);
  });
});
