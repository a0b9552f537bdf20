import { optionText } from '../errors.js';
import { formatMoney, sumMoney } from './money.js';
import type { BudgetVerdict, JobSpend } from './types.js';

// The budget's messages and older importers name these from here; money.ts defines them.
export { formatMoney, roundMoney } from './money.js';

export interface BudgetLimits {
  max_cost?: number | undefined;
  max_seconds?: number | undefined;
  /** Where `max_cost` came from when not the manifest's `budget.max_cost`: the run's options. */
  max_cost_from?: 'options' | undefined;
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
const UNPRICED_FIX = 'add their models (and sizes) to pricing.per_second';

/**
 * Whether a spend stays within the limits. A cost limit with unpriced models cannot be
 * checked, and is refused: no surprise spend.
 */
export function checkBudget(limits: BudgetLimits | undefined, spend: Spend): BudgetVerdict {
  const max_cost = limits?.max_cost ?? null;
  const max_seconds = limits?.max_seconds ?? null;
  let reason: string | null = null;
  const money = (v: number) => formatMoney(v, spend.currency);
  const limit = limits?.max_cost_from ? optionText('maxCost') : 'budget.max_cost';
  if (max_seconds !== null && spend.seconds > max_seconds) {
    reason = `${spend.seconds} billable seconds exceed budget.max_seconds ${max_seconds}`;
  } else if (max_cost !== null && spend.unpriced_seconds > 0) {
    reason = `${spend.unpriced_seconds} seconds have no price, so ${limit} ${money(max_cost)} cannot be checked; ${UNPRICED_FIX}`;
  } else if (max_cost !== null && (spend.cost ?? 0) > max_cost) {
    reason = `cost ${money(spend.cost ?? 0)} exceeds ${limit} ${money(max_cost)}`;
  }
  const from = limits?.max_cost_from;
  return {
    max_cost,
    max_seconds,
    ...(from ? { max_cost_from: from } : {}),
    ok: reason === null,
    reason,
  };
}

export interface TotalLimits {
  max_total_cost?: number | undefined;
  max_total_seconds?: number | undefined;
}

/** Why the job's spend over every run breaks a total limit, or null when it does not. */
function totalReason(limits: TotalLimits, job: JobSpend, currency: string | null): string | null {
  const parts = [job.billed, job.at_risk, job.this_run];
  const seconds = parts.reduce((n, p) => n + p.seconds, 0);
  const figures = (show: (p: JobSpend['billed']) => string) =>
    `${show(job.billed)} billed so far + ${show(job.at_risk)} at risk + ${show(job.this_run)} this run`;
  if (limits.max_total_seconds !== undefined && seconds > limits.max_total_seconds) {
    return `${figures((p) => `${p.seconds} s`)} = ${seconds} s exceed budget.max_total_seconds ${limits.max_total_seconds}`;
  }
  if (limits.max_total_cost === undefined) return null;
  const money = (v: number | null) => formatMoney(v ?? 0, currency);
  if (job.unpriced_seconds > 0) {
    return `${job.unpriced_seconds} seconds of the job have no price, so budget.max_total_cost ${money(limits.max_total_cost)} cannot be checked; ${UNPRICED_FIX}`;
  }
  const total = sumMoney(
    parts.map((p) => p.cost),
    currency,
  );
  if ((total ?? 0) <= limits.max_total_cost) return null;
  return `${figures((p) => money(p.cost))} = ${money(total)} exceeds budget.max_total_cost ${money(limits.max_total_cost)}`;
}

/**
 * Adds the job's limits over every run to a run's verdict: what the journal says was billed,
 * plus what may have been billed, plus this run's new spend, against `max_total_cost` and
 * `max_total_seconds`. A run's own limit, when broken, stays the reason given.
 */
export function checkTotalBudget(
  verdict: BudgetVerdict,
  limits: TotalLimits | undefined,
  job: JobSpend,
  currency: string | null,
): BudgetVerdict {
  const max_total_cost = limits?.max_total_cost ?? null;
  const max_total_seconds = limits?.max_total_seconds ?? null;
  if (max_total_cost === null && max_total_seconds === null) return verdict;
  const reason = verdict.ok ? totalReason(limits ?? {}, job, currency) : verdict.reason;
  return { ...verdict, max_total_cost, max_total_seconds, job, ok: reason === null, reason };
}
