/**
 * The budget verdict a run acts on and `status` shows: this run's new spend against the run's
 * limits, then, when the run would send anything, the job's spend over every run against its
 * total limits. One function, so `status` can never say "within budget" where `run` refuses.
 */
import { checkBudget, checkTotalBudget } from '../plan/budget.js';
import type { BudgetVerdict, JobSpend, Plan } from '../plan/types.js';
import { costLedger, pricesOf } from '../render/cost.js';
import type { JournalEntry } from '../render/journal.js';
import type { AssessmentSummary } from '../render/state.js';
import { SIMULATOR_BASE } from './base.js';

export interface BudgetInputs {
  /** This run's shots. */
  plan: Plan;
  /** Every shot of the manifest: prices the journal's entries of earlier runs. */
  fullPlan: Plan;
  summary: AssessmentSummary;
  entries: readonly JournalEntry[];
  /** A simulated run counts the journal's simulated submissions, a real one the real ones. */
  simulated: boolean;
}

export function runBudget(inputs: BudgetInputs): BudgetVerdict {
  const { plan, summary } = inputs;
  const verdict = checkBudget(
    {
      max_cost: plan.budget.max_cost ?? undefined,
      max_seconds: plan.budget.max_seconds ?? undefined,
      max_cost_from: plan.budget.max_cost_from,
    },
    {
      seconds: summary.newSeconds,
      cost: summary.newCost,
      unpriced_seconds: summary.unpricedSeconds,
      currency: plan.totals.currency,
    },
  );
  // A run that sends nothing spends nothing: it may still collect, stitch and report.
  if (summary.submits === 0) return verdict;
  return checkTotalBudget(
    verdict,
    {
      max_total_cost: plan.budget.max_total_cost ?? undefined,
      max_total_seconds: plan.budget.max_total_seconds ?? undefined,
    },
    jobSpend(inputs),
    plan.totals.currency,
  );
}

/**
 * What the job has billed and may have billed over every run, and what this run adds. A
 * simulated run counts the simulated submissions of the journal, a real one the real ones, so
 * a rehearsal is refused where the real campaign would be.
 */
function jobSpend({ entries, fullPlan, simulated, summary }: BudgetInputs): JobSpend {
  const ours = entries.filter(
    (e) => e.type !== 'intent' || (e.base === SIMULATOR_BASE) === simulated,
  );
  const ledger = costLedger(ours, pricesOf(fullPlan.shots));
  return {
    billed: ledger.billed,
    at_risk: ledger.atRisk,
    this_run: { seconds: summary.newSeconds, cost: summary.newCost },
    unpriced_seconds: ledger.unpricedSeconds + summary.unpricedSeconds,
  };
}
