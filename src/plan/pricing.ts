import type { ShotlistManifest } from '../manifest/types.gen.js';

/** `pricing.per_second` of a manifest: per model, one price or one per size. */
export type PricesPerSecond = NonNullable<ShotlistManifest['pricing']>['per_second'];

/**
 * The price of one second of `model` at `size`, or null when none is set: a model without a
 * price, or a model priced by size without a price for this size.
 */
export function unitPrice(prices: PricesPerSecond, model: string, size: string): number | null {
  if (!Object.hasOwn(prices, model)) return null;
  const price = prices[model]!;
  if (typeof price === 'number') return price;
  return Object.hasOwn(price, size) ? (price[size as keyof typeof price] ?? null) : null;
}
