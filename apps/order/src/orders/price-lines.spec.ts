import type { Product } from '../catalogue/product-catalogue.service';
import { priceLines } from './price-lines';

const products = new Map<string, Product>([
  ['SKU-MUG', { sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: 12.5 }],
  ['SKU-BAG', { sku: 'SKU-BAG', name: 'Canvas tote bag', unitPrice: 9.9 }],
]);

describe('priceLines', () => {
  it('takes name and unit price from the catalogue and sums the total in cents', () => {
    const priced = priceLines(
      [
        { sku: 'SKU-MUG', quantity: 2 },
        { sku: 'SKU-BAG', quantity: 3 },
      ],
      products,
    );
    expect(priced).toEqual({
      ok: true,
      items: [
        { sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: 12.5, quantity: 2 },
        { sku: 'SKU-BAG', name: 'Canvas tote bag', unitPrice: 9.9, quantity: 3 },
      ],
      total: 54.7,
    });
  });

  it('names every unknown sku by its line', () => {
    expect(
      priceLines(
        [
          { sku: 'SKU-MUG', quantity: 1 },
          { sku: 'SKU-X', quantity: 1 },
          { sku: 'SKU-Y', quantity: 1 },
        ],
        products,
      ),
    ).toEqual({
      ok: false,
      errors: ['items.1.sku: unknown sku "SKU-X"', 'items.2.sku: unknown sku "SKU-Y"'],
    });
  });

  it('refuses a sku on two lines', () => {
    const priced = priceLines(
      [
        { sku: 'SKU-MUG', quantity: 1 },
        { sku: 'SKU-MUG', quantity: 2 },
      ],
      products,
    );
    expect(priced).toEqual({
      ok: false,
      errors: [expect.stringMatching(/^items\.1\.sku: sku "SKU-MUG" is already on line 0/)],
    });
  });
});
