import { Injectable } from '@nestjs/common';
import { CANCELLATION_REASONS, CURRENCY } from '@app/contracts';
import { InjectStore, ServiceStore } from '@app/platform';
import { CountOnce } from './count-once';

/** How many SKUs the summary lists. */
export const TOP_SKUS_LIMIT = 10;

/** What is counted once per order. */
export type OrderFact = 'placed' | 'confirmed' | 'cancelled';

export interface DailyFigures {
  date: string;
  placed: number;
  confirmed: number;
  cancelled: number;
  revenue: number;
}

export interface AnalyticsSummary {
  ordersPlaced: number;
  ordersConfirmed: number;
  ordersCancelled: { total: number; byReason: Record<string, number> };
  revenue: number;
  currency: string;
  topSkus: Array<{ sku: string; quantity: number }>;
  daily: DailyFigures[];
}

/**
 * The analytics projection in the service store:
 * `counted:<orderId>` (hash: which facts of the order were counted), `totals` (hash: placed,
 * confirmed, cancelled, revenueCents), `cancelled-by-reason` (hash), `sku-quantity` (sorted set:
 * units sold in confirmed orders) and `daily` (hash: `<YYYY-MM-DD>:<placed|confirmed|cancelled|revenueCents>`).
 * Money is counted in cents, so sums stay exact.
 */
@Injectable()
export class AnalyticsRepository {
  constructor(@InjectStore() private readonly store: ServiceStore) {}

  /** Increments that apply once per (order, fact), whatever is redelivered or replayed. */
  once(orderId: string, fact: OrderFact): CountOnce {
    return new CountOnce(this.store.key('counted', orderId), fact);
  }

  get keys(): { totals: string; byReason: string; skus: string; daily: string } {
    const key = (name: string): string => this.store.key(name);
    return {
      totals: key('totals'),
      byReason: key('cancelled-by-reason'),
      skus: key('sku-quantity'),
      daily: key('daily'),
    };
  }

  async summary(): Promise<AnalyticsSummary> {
    const { keys } = this;
    const [totals, byReason, skus, daily] = await Promise.all([
      this.store.redis.hgetall(keys.totals),
      this.store.redis.hgetall(keys.byReason),
      this.store.redis.zrange(keys.skus, 0, -1, 'WITHSCORES'),
      this.store.redis.hgetall(keys.daily),
    ]);
    const n = (value: string | undefined): number => Number(value ?? 0);
    const reasons: Record<string, number> = Object.fromEntries(CANCELLATION_REASONS.map((r) => [r, 0]));
    for (const [reason, count] of Object.entries(byReason)) reasons[reason] = n(count);
    return {
      ordersPlaced: n(totals.placed),
      ordersConfirmed: n(totals.confirmed),
      ordersCancelled: { total: n(totals.cancelled), byReason: reasons },
      revenue: n(totals.revenueCents) / 100,
      currency: CURRENCY,
      topSkus: topSkus(skus),
      daily: dailySeries(daily),
    };
  }
}

function topSkus(withScores: string[]): Array<{ sku: string; quantity: number }> {
  const skus = [];
  for (let i = 0; i + 1 < withScores.length; i += 2)
    skus.push({ sku: withScores[i], quantity: Number(withScores[i + 1]) });
  return skus.sort((a, b) => b.quantity - a.quantity || a.sku.localeCompare(b.sku)).slice(0, TOP_SKUS_LIMIT);
}

function dailySeries(fields: Record<string, string>): DailyFigures[] {
  const days = new Map<string, DailyFigures>();
  for (const [field, value] of Object.entries(fields)) {
    const [date, figure] = field.split(':');
    const day = days.get(date) ?? { date, placed: 0, confirmed: 0, cancelled: 0, revenue: 0 };
    if (figure === 'revenueCents') day.revenue = Number(value) / 100;
    else if (figure === 'placed' || figure === 'confirmed' || figure === 'cancelled') day[figure] = Number(value);
    days.set(date, day);
  }
  return [...days.values()].sort((a, b) => a.date.localeCompare(b.date));
}
