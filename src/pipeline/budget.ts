/**
 * The budget verdict a run acts on and `status` shows: this run's new spend against the run's
 * limits, then, when the run would send anything, the job's spend over every run against its
 * total limits. One function, so `status` can never say "within budget" where `run` refuses.
 */
import { checkBudget, checkTotalBudget } from '../plan/budget.js';
import { sumMoney } from '../plan/money.js';
import type { BudgetVerdict, JobSpend, Plan } from '../plan/types.js';
import { costLedger, pricesOf } from '../render/cost.js';
import type { JournalEntry } from '../render/journal.js';
import type { AssessmentSummary } from '../render/state.js';
import { SIMULATOR_BASE } from './base.js';
import type { OutsideShard } from './shard.js';

export interface BudgetInputs {
  /** This run's shots. */
  plan: Plan;
  /** Every shot of the manifest: prices the journal's entries of earlier runs. */
  fullPlan: Plan;
  summary: AssessmentSummary;
  entries: readonly JournalEntry[];
  /** A simulated run counts the journal's simulated submissions, a real one the real ones. */
  simulated: boolean;
  /** With `--shard`: the other shards' shots, counted as new, so the limits hold for the whole run. */
  elsewhere?: OutsideShard;
}

/** This run's new spend; a shard's is the whole manifest's run (its own plus the others'). */
function newSpend({ summary, elsewhere, plan }: BudgetInputs) {
  const currency = plan.totals.currency;
  // A shard that sends nothing spends nothing, whatever the others do.
  if (!elsewhere || summary.submits === 0)
    return {
      seconds: summary.newSeconds,
      cost: summary.newCost,
      unpriced: summary.unpricedSeconds,
    };
  return {
    seconds: summary.newSeconds + elsewhere.seconds,
    cost: sumMoney([summary.newCost, elsewhere.cost], currency),
    unpriced: summary.unpricedSeconds + elsewhere.unpriced_seconds,
  };
}

/** Says, after a shard's refusal, that the figures are the whole manifest's. */
function shardNote(verdict: BudgetVerdict, elsewhere: OutsideShard | undefined): BudgetVerdict {
  if (verdict.ok || !elsewhere || verdict.reason === null) return verdict;
  const n = elsewhere.shots;
  return {
    ...verdict,
    reason: `${verdict.reason} (a shard counts the whole manifest's run: its own new shots plus the ${n} shot${n === 1 ? '' : 's'} of the other shards, which this folder cannot see, as new)`,
  };
}

export function runBudget(inputs: BudgetInputs): BudgetVerdict {
  const { plan, summary } = inputs;
  const spend = newSpend(inputs);
  const verdict = checkBudget(
    {
      max_cost: plan.budget.max_cost ?? undefined,
      max_seconds: plan.budget.max_seconds ?? undefined,
      max_cost_from: plan.budget.max_cost_from,
    },
    {
      seconds: spend.seconds,
      cost: spend.cost,
      unpriced_seconds: spend.unpriced,
      currency: plan.totals.currency,
    },
  );
  const total = checkTotalBudget(
    verdict,
    {
      max_total_cost: plan.budget.max_total_cost ?? undefined,
      max_total_seconds: plan.budget.max_total_seconds ?? undefined,
    },
    jobSpend(inputs),
    plan.totals.currency,
  );
  // A run that sends nothing spends nothing: it may still collect, stitch and report. The
  // figures are still shown, and a job already over its total limit is said, not refused.
  if (summary.submits === 0) {
    const over = total.ok || total.reason === null ? {} : { over_total: total.reason };
    return { ...total, ok: verdict.ok, reason: verdict.reason, ...over };
  }
  return shardNote(total, inputs.elsewhere);
}

/**
 * What the job has billed and may have billed over every run, and what this run adds. A
 * simulated run counts the simulated submissions of the journal, a real one the real ones, so
 * a rehearsal is refused where the real campaign would be.
 */
function jobSpend(inputs: BudgetInputs): JobSpend {
  const { entries, fullPlan, simulated } = inputs;
  const spend = newSpend(inputs);
  const ours = entries.filter(
    (e) => e.type !== 'intent' || (e.base === SIMULATOR_BASE) === simulated,
  );
  const ledger = costLedger(ours, pricesOf(fullPlan.shots));
  return {
    billed: ledger.billed,
    at_risk: ledger.atRisk,
    this_run: { seconds: spend.seconds, cost: spend.cost },
    unpriced_seconds: ledger.unpricedSeconds + spend.unpriced,
  };
}
