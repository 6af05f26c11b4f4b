/**
 * The shop's reference data, seeded into the services that need it: order keeps names and
 * prices (to publish fat events), inventory keeps stock. Not an event: each service owns its copy.
 */
export interface CatalogueItem {
  sku: string;
  name: string;
  unitPrice: number;
  stock: number;
}

export const CURRENCY = 'EUR';

export const CATALOGUE_SEED: readonly CatalogueItem[] = [
  { sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: 12.5, stock: 100 },
  { sku: 'SKU-TEE', name: 'Organic T-shirt', unitPrice: 24, stock: 50 },
  { sku: 'SKU-CAP', name: 'Cotton cap', unitPrice: 18, stock: 40 },
  { sku: 'SKU-BAG', name: 'Canvas tote bag', unitPrice: 9.9, stock: 200 },
  { sku: 'SKU-PEN', name: 'Fountain pen', unitPrice: 45, stock: 10 },
  { sku: 'SKU-LTD', name: 'Limited print (signed)', unitPrice: 120, stock: 1 },
];
