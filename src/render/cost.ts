/**
 * What a job has cost, over every run its journal records: spend is what completed tasks bill;
 * failed tasks are shown apart (the API does not bill them); a submission whose outcome is
 * unknown, or a task still running, "may have been billed". One definition for the run summary,
 * the report and `shotlist cost`.
 */
import { roundMoney } from '../plan/budget.js';
import type { JournalEntry } from './journal.js';

/** How one task (one submission) stands for the bill. */
export type ChargeKind = 'billed' | 'failed' | 'at_risk';

/** Seconds and cost of some tasks; `cost` is null when none of them has a price. */
export interface Money {
  seconds: number;
  cost: number | null;
}

/** The bill of a job: per charge kind, and per variant and model. */
export interface CostLedger {
  billed: Money;
  failed: Money;
  atRisk: Money;
  /** Submissions that created (or may have created) a task. */
  tasks: number;
  rows: CostRow[];
}

export interface CostRow {
  variant: string | null;
  model: string;
  billed: Money;
  failed: Money;
  atRisk: Money;
}

/** One submission as the journal tells it. */
interface Attempt {
  variant: string | null;
  model: string;
  seconds: number;
  idem: string;
  kind: ChargeKind | 'refused';
}

const none = (): Money => ({ seconds: 0, cost: null });

/** Adds `seconds` at `price` (null: no price known) to `money`. */
export function addMoney(money: Money, seconds: number, price: number | null): void {
  money.seconds += seconds;
  if (price !== null) money.cost = roundMoney((money.cost ?? 0) + price * seconds);
}

/**
 * Every submission the journal records, with how it ended. A resubmission under the same
 * Idempotency-Key (`--retry-unknown`) is the same task, so it replaces the attempt it retries.
 */
function attempts(entries: readonly JournalEntry[]): Attempt[] {
  const all: Attempt[] = [];
  const latest = new Map<string, Attempt>();
  for (const e of entries) {
    if (e.type === 'intent') {
      const previous = latest.get(e.key);
      const attempt: Attempt = {
        variant: e.shot.variant,
        model: e.model ?? 'unknown model',
        seconds: e.seconds ?? 0,
        idem: e.idem,
        kind: 'at_risk',
      };
      if (previous && previous.idem === e.idem) Object.assign(previous, attempt);
      else all.push(attempt);
      latest.set(e.key, previous && previous.idem === e.idem ? previous : attempt);
      continue;
    }
    const attempt = latest.get(e.key);
    if (!attempt) continue;
    if (e.type === 'completed') {
      attempt.kind = 'billed';
      if (typeof e.seconds === 'number' && e.seconds > 0) attempt.seconds = e.seconds;
    } else if (e.type === 'failed') attempt.kind = e.task_id ? 'failed' : 'refused';
    else if (e.type === 'unknown' || e.type === 'task') attempt.kind = 'at_risk';
  }
  return all;
}

/**
 * The bill of every submission in `entries`, priced per second by `prices` (model to price;
 * a model without one adds seconds but no cost).
 */
export function costLedger(
  entries: readonly JournalEntry[],
  prices: ReadonlyMap<string, number | null>,
): CostLedger {
  const ledger: CostLedger = { billed: none(), failed: none(), atRisk: none(), tasks: 0, rows: [] };
  const rows = new Map<string, CostRow>();
  for (const a of attempts(entries)) {
    if (a.kind === 'refused') continue;
    ledger.tasks++;
    const id = `${a.variant ?? ''}\u0000${a.model}`;
    let row = rows.get(id);
    if (!row) {
      row = { variant: a.variant, model: a.model, billed: none(), failed: none(), atRisk: none() };
      rows.set(id, row);
    }
    const field = a.kind === 'at_risk' ? 'atRisk' : a.kind;
    const price = prices.get(a.model) ?? null;
    addMoney(row[field], a.seconds, price);
    addMoney(ledger[field], a.seconds, price);
  }
  ledger.rows = [...rows.values()].sort(
    (x, y) => (x.variant ?? '').localeCompare(y.variant ?? '') || x.model.localeCompare(y.model),
  );
  return ledger;
}

/** The per-second price of every model a plan uses. */
export function pricesOf(shots: readonly { model: string; unit_price: number | null }[]) {
  return new Map(shots.map((s) => [s.model, s.unit_price]));
}
