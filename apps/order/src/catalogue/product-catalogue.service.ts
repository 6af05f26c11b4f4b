import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { CATALOGUE_SEED } from '@app/contracts';
import { InjectStore, ServiceStore } from '@app/platform';

/** What the order service knows of a product: enough to publish a fat OrderPlaced. */
export interface Product {
  sku: string;
  name: string;
  unitPrice: number;
}

/**
 * The order service's own copy of the product reference (names, unit prices), in
 * `<ns>:svc:order:catalogue` (sku -> JSON). Seeded from `CATALOGUE_SEED` at start with HSETNX:
 * a sku already there keeps its stored name and price, a sku new to the seed is added.
 */
@Injectable()
export class ProductCatalogue implements OnModuleInit {
  private readonly logger = new Logger(ProductCatalogue.name);
  private readonly key: string;

  constructor(@InjectStore() private readonly store: ServiceStore) {
    this.key = store.key('catalogue');
  }

  async onModuleInit(): Promise<void> {
    const pipeline = this.store.redis.pipeline();
    for (const { sku, name, unitPrice } of CATALOGUE_SEED)
      pipeline.hsetnx(this.key, sku, JSON.stringify({ name, unitPrice }));
    const results = (await pipeline.exec()) ?? [];
    const added = results.filter(([error, value]) => !error && value === 1).length;
    if (added > 0) this.logger.log(`seeded ${added} product(s) into ${this.key}`);
  }

  /** The products of `skus` that exist, by sku. */
  async find(skus: string[]): Promise<Map<string, Product>> {
    const found = new Map<string, Product>();
    if (skus.length === 0) return found;
    const values = await this.store.redis.hmget(this.key, ...skus);
    values.forEach((value, i) => {
      if (value === null) return;
      const { name, unitPrice } = JSON.parse(value) as Omit<Product, 'sku'>;
      found.set(skus[i], { sku: skus[i], name, unitPrice });
    });
    return found;
  }
}
