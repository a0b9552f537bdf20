import { formatMoney } from './money.js';
import type { BudgetVerdict } from './types.js';

// The budget's messages and older importers name these from here; money.ts defines them.
export { formatMoney, roundMoney } from './money.js';

export interface BudgetLimits {
  max_cost?: number | undefined;
  max_seconds?: number | undefined;
}

export interface Spend {
  seconds: number;
  /** Cost of the priced part, or null when nothing is priced. */
  cost: number | null;
  /** Seconds of models (or sizes) without a price: a cost limit cannot vouch for them. */
  unpriced_seconds: number;
  currency: string | null;
}

/** Why a cost limit cannot be checked when some seconds have no price. */
export const UNPRICED_FIX = 'add their models (and sizes) to pricing.per_second';

/**
 * Whether a spend stays within the limits. A cost limit with unpriced models cannot be
 * checked, and is refused: no surprise spend.
 */
export function checkBudget(limits: BudgetLimits | undefined, spend: Spend): BudgetVerdict {
  const max_cost = limits?.max_cost ?? null;
  const max_seconds = limits?.max_seconds ?? null;
  let reason: string | null = null;
  const money = (v: number) => formatMoney(v, spend.currency);
  if (max_seconds !== null && spend.seconds > max_seconds) {
    reason = `${spend.seconds} billable seconds exceed budget.max_seconds ${max_seconds}`;
  } else if (max_cost !== null && spend.unpriced_seconds > 0) {
    reason = `${spend.unpriced_seconds} seconds have no price, so budget.max_cost ${money(max_cost)} cannot be checked; ${UNPRICED_FIX}`;
  } else if (max_cost !== null && (spend.cost ?? 0) > max_cost) {
    reason = `cost ${money(spend.cost ?? 0)} exceeds budget.max_cost ${money(max_cost)}`;
  }
  return { max_cost, max_seconds, ok: reason === null, reason };
}
