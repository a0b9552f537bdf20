/**
 * What a job has cost, over every run its journal records: spend is what completed tasks bill;
 * failed tasks are shown apart (the API does not bill them); a submission whose outcome is
 * unknown, or a task still running, "may have been billed". One definition for the run summary,
 * the report and `shotlist cost`.
 */
import { addMoney, costOf } from '../plan/money.js';
import type { PlannedShot } from '../plan/types.js';
import { journalKey, type JournalEntry } from './journal.js';

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
  /** Seconds billed or at risk without a price: a cost limit cannot vouch for them. */
  unpricedSeconds: number;
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
  key: string;
  /** The API base URL of its key (absent in older journals). */
  base: string | undefined;
  variant: string | null;
  model: string;
  /** The size it was sent at, when the journal records it. */
  size: string | undefined;
  seconds: number;
  idem: string;
  kind: ChargeKind | 'refused';
}

/** What one second of a journaled submission costs, and the currency that rounds it. */
export interface Prices {
  currency: string | null;
  /** The per-second price of a submission, or null when it has none. */
  of(attempt: Pick<Attempt, 'key' | 'base' | 'model' | 'size'>): number | null;
}

const none = (): Money => ({ seconds: 0, cost: null });

/** Adds `seconds` at `price` (null: no price known) to `money`, exactly. */
function addCharge(money: Money, seconds: number, price: number | null, prices: Prices): void {
  money.seconds += seconds;
  if (price !== null) {
    money.cost = addMoney(
      money.cost ?? 0,
      costOf(price, seconds, prices.currency),
      prices.currency,
    );
  }
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
      const size = (e as { size?: unknown }).size;
      const attempt: Attempt = {
        key: e.key,
        base: e.base,
        variant: e.shot.variant,
        model: e.model ?? 'unknown model',
        size: typeof size === 'string' ? size : undefined,
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
export function costLedger(entries: readonly JournalEntry[], prices: Prices): CostLedger {
  const ledger: CostLedger = {
    billed: none(),
    failed: none(),
    atRisk: none(),
    tasks: 0,
    unpricedSeconds: 0,
    rows: [],
  };
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
    const price = prices.of(a);
    if (price === null && field !== 'failed') ledger.unpricedSeconds += a.seconds;
    addCharge(row[field], a.seconds, price, prices);
    addCharge(ledger[field], a.seconds, price, prices);
  }
  ledger.rows = [...rows.values()].sort(
    (x, y) => (x.variant ?? '').localeCompare(y.variant ?? '') || x.model.localeCompare(y.model),
  );
  return ledger;
}

type PricedShot = Pick<
  PlannedShot,
  'model' | 'size' | 'unit_price' | 'currency' | 'request' | 'take'
>;

/**
 * The prices of a plan's shots, for the journal's submissions: a submission of a planned
 * request costs that shot's price; any other (an earlier version of the manifest) the price of
 * its model at its size when the journal records the size, else its model's price when the
 * plan uses one price for that model; else none.
 */
export function pricesOf(shots: readonly PricedShot[]): Prices {
  const currency = shots.find((s) => s.currency !== null)?.currency ?? null;
  const byKey = new Map<string, Map<string, number | null>>();
  const bySize = new Map<string, number | null>();
  const byModel = new Map<string, Set<number | null>>();
  for (const s of shots) {
    bySize.set(`${s.model}\u0000${s.size}`, s.unit_price);
    byModel.set(s.model, (byModel.get(s.model) ?? new Set()).add(s.unit_price));
  }
  const keysAt = (base: string) => {
    let keys = byKey.get(base);
    if (!keys) {
      keys = new Map(shots.map((s) => [journalKey(s.request, s.take, base), s.unit_price]));
      byKey.set(base, keys);
    }
    return keys;
  };
  return {
    currency,
    of(a) {
      const planned = a.base === undefined ? undefined : keysAt(a.base).get(a.key);
      if (planned !== undefined) return planned;
      if (a.size !== undefined) return bySize.get(`${a.model}\u0000${a.size}`) ?? null;
      const models = byModel.get(a.model);
      return models?.size === 1 ? [...models][0]! : null;
    },
  };
}
