import type { OrderItem } from '@app/contracts';
import type { Product } from '../catalogue/product-catalogue.service';

/** One requested line: a sku and a quantity. */
export interface RequestedLine {
  sku: string;
  quantity: number;
}

export type PricedLines = { ok: true; items: OrderItem[]; total: number } | { ok: false; errors: string[] };

/**
 * Prices an order from the catalogue: each line gets its product's name and unit price, the
 * total is the sum rounded to cents. Errors name the field: `items.1.sku: unknown sku "SKU-X"`;
 * a sku on two lines is refused (one line per sku keeps reservations unambiguous).
 */
export function priceLines(lines: RequestedLine[], products: ReadonlyMap<string, Product>): PricedLines {
  const errors: string[] = [];
  const firstLine = new Map<string, number>();
  const items: OrderItem[] = [];
  lines.forEach(({ sku, quantity }, i) => {
    const product = products.get(sku);
    if (!product) {
      errors.push(`items.${i}.sku: unknown sku "${sku}"`);
      return;
    }
    const seen = firstLine.get(sku);
    if (seen !== undefined) {
      errors.push(`items.${i}.sku: sku "${sku}" is already on line ${seen}; put its whole quantity on one line`);
      return;
    }
    firstLine.set(sku, i);
    items.push({ sku, name: product.name, unitPrice: product.unitPrice, quantity });
  });
  if (errors.length > 0) return { ok: false, errors };
  const cents = items.reduce((sum, item) => sum + Math.round(item.unitPrice * 100) * item.quantity, 0);
  return { ok: true, items, total: cents / 100 };
}
