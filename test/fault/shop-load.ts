/**
 * The order load the shop's fault tests send (platform-kill, shop-partitioned): shoppers, a few of
 * them declined by the fake gateway, and baskets weighted over the catalogue's skus.
 */

/** The shoppers; ids starting with `declined` are declined by the fake gateway (apps/payment/src/gateway/fake-decline-rule.ts). */
export const SHOPPERS = Array.from({ length: 24 }, (_, i) => `shopper-${String(i).padStart(2, '0')}`);
export const DECLINED = Array.from({ length: 8 }, (_, i) => `declined-${String(i).padStart(2, '0')}`);
export const USERS = [...SHOPPERS, ...DECLINED];

const SKU_WEIGHTS: Array<[string, number]> = [
  ['SKU-MUG', 28],
  ['SKU-BAG', 28],
  ['SKU-TEE', 18],
  ['SKU-CAP', 12],
  ['SKU-PEN', 9],
  ['SKU-LTD', 5],
];

/** A `POST /orders` body. */
export interface PlaceOrderBody {
  userId: string;
  email: string;
  items: Array<{ sku: string; quantity: number }>;
}

/** Order bodies drawn from `random` (seeded by the test): a fifth declined shoppers, 2% over the gateway's limit. */
export function orderGenerator(random: () => number): () => PlaceOrderBody {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const totalWeight = SKU_WEIGHTS.reduce((s, [, w]) => s + w, 0);
  const weightedSku = (): string => {
    let r = random() * totalWeight;
    for (const [sku, w] of SKU_WEIGHTS) if ((r -= w) < 0) return sku;
    return SKU_WEIGHTS[0][0];
  };
  return () => {
    const userId = random() < 0.2 ? pick(DECLINED) : pick(SHOPPERS);
    // NOTE: 25 pens = 1125 EUR, over the fake gateway's 1000 limit: reserved (while pens last), declined, released.
    if (random() < 0.02) return { userId, email: `${userId}@example.com`, items: [{ sku: 'SKU-PEN', quantity: 25 }] };
    const lines = random() < 0.35 ? 2 : 1;
    const skus = new Set<string>();
    while (skus.size < lines) skus.add(weightedSku());
    return {
      userId,
      email: `${userId}@example.com`,
      items: [...skus].map((sku) => ({ sku, quantity: 1 + Math.floor(random() * 3) })),
    };
  };
}

/** The consumer groups of the shop per stream (README, "The shop"); `flow-index` (the ops view) is left out. */
export const SHOP_GROUPS: Record<string, string[]> = {
  orders: ['inventory', 'payment', 'analytics', 'email'],
  inventory: ['order'],
  payments: ['order', 'loyalty'],
};
