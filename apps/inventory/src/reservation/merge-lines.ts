import type { ReservedLine } from '@app/contracts';

/** One line per sku, quantities summed, in order of first appearance (an order may name a sku twice). */
export function mergeLines(items: ReadonlyArray<{ sku: string; quantity: number }>): ReservedLine[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of items) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
}
