import type { BudgetVerdict } from './types.js';

export interface BudgetLimits {
  max_cost?: number | undefined;
  max_seconds?: number | undefined;
}

export interface Spend {
  seconds: number;
  /** Cost of the priced part, or null when nothing is priced. */
  cost: number | null;
  /** Seconds of models without a price: a cost limit cannot vouch for them. */
  unpriced_seconds: number;
  currency: string | null;
}

/** Rounds money to a millionth, so 0.1 + 0.2 shows as 0.3. */
export function roundMoney(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** `12.00 CNY`, or `-` without a price: how every table and log line shows money. */
export function formatMoney(value: number | null, currency: string | null): string {
  if (value === null) return '-';
  return `${(Math.round(value * 100) / 100).toFixed(2)}${currency ? ` ${currency}` : ''}`;
}

/**
 * Whether a spend stays within the limits. A cost limit with unpriced models cannot be
 * checked, and is refused: no surprise spend.
 */
export function checkBudget(limits: BudgetLimits | undefined, spend: Spend): BudgetVerdict {
  const max_cost = limits?.max_cost ?? null;
  const max_seconds = limits?.max_seconds ?? null;
  let reason: string | null = null;
  const money = (v: number) => `${roundMoney(v)}${spend.currency ? ` ${spend.currency}` : ''}`;
  if (max_seconds !== null && spend.seconds > max_seconds) {
    reason = `${spend.seconds} billable seconds exceed budget.max_seconds ${max_seconds}`;
  } else if (max_cost !== null && spend.unpriced_seconds > 0) {
    reason = `${spend.unpriced_seconds} seconds have no price, so budget.max_cost ${money(max_cost)} cannot be checked; add their models to pricing.per_second`;
  } else if (max_cost !== null && (spend.cost ?? 0) > max_cost + 1e-9) {
    reason = `cost ${money(spend.cost ?? 0)} exceeds budget.max_cost ${money(max_cost)}`;
  }
  return { max_cost, max_seconds, ok: reason === null, reason };
}
