/**
 * What a job has cost, over every run its journal records: spend is what completed tasks bill;
 * failed tasks are shown apart (the API does not bill them); a submission whose outcome is
 * unknown, or a task still running, "may have been billed". One definition for the run summary,
 * the report and `shotlist cost`.
 */
import { addMoney, costOf } from '../plan/money.js';
import type { PlannedShot } from '../plan/types.js';
import { journalKey } from '../manifest/identity.js';
import type { JournalEntry } from './journal.js';

/** How one task (one submission) stands for the bill. */
export type ChargeKind = 'billed' | 'failed' | 'at_risk';

/** Seconds and cost of some tasks; `cost` is null when none of them has a price. */
export interface Money {
  seconds: number;
  cost: number | null;
}

/** The bill of a job: per charge kind, per variant and model, and per account. */
export interface CostLedger {
  billed: Money;
  failed: Money;
  atRisk: Money;
  /** Submissions that created (or may have created) a task. */
  tasks: number;
  /** Seconds billed or at risk without a price: a cost limit cannot vouch for them. */
  unpricedSeconds: number;
  /**
   * Submissions journaled before prices were recorded with them: priced at today's rates (the
   * manifest's `pricing`), which may not be the price in force when they were sent.
   */
  todayPriced: number;
  rows: CostRow[];
  /** Per pool account (`--accounts`); `account` null for the single key. */
  accounts: AccountRow[];
}

export interface CostRow {
  variant: string | null;
  model: string;
  billed: Money;
  failed: Money;
  atRisk: Money;
}

export interface AccountRow {
  account: string | null;
  tasks: number;
  billed: Money;
  failed: Money;
  atRisk: Money;
}

/** One submission as the journal tells it. */
interface Attempt {
  key: string;
  /** The API base URL of its key (absent in older journals). */
  base: string | undefined;
  account: string | null;
  variant: string | null;
  model: string;
  /** The size it was sent at, when the journal records it. */
  size: string | undefined;
  seconds: number;
  /** The price in force when it was sent, when the journal records it. */
  sent: { unitPrice: number | null; currency: string | null } | undefined;
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

/** The price in force when the intent was sent, as it recorded it. */
function sentPrice(e: Extract<JournalEntry, { type: 'intent' }>): Attempt['sent'] {
  const raw = e as { unit_price?: unknown; currency?: unknown };
  if (!('unit_price' in raw)) return undefined;
  const unitPrice =
    typeof raw.unit_price === 'number' && Number.isFinite(raw.unit_price) && raw.unit_price >= 0
      ? raw.unit_price
      : null;
  return { unitPrice, currency: typeof raw.currency === 'string' ? raw.currency : null };
}

/**
 * Every submission the journal records, with how it ended. Each intent is its own attempt: a
 * resubmission (`--retry-unknown`) under the same Idempotency-Key may still have created a
 * second task (most gateways ignore the header), so it never replaces the attempt it retries.
 */
function attempts(entries: readonly JournalEntry[]): Attempt[] {
  const all: Attempt[] = [];
  const latest = new Map<string, Attempt>();
  for (const e of entries) {
    if (e.type === 'intent') {
      const size = (e as { size?: unknown }).size;
      const attempt: Attempt = {
        key: e.key,
        base: e.base,
        account: e.account ?? null,
        variant: e.shot.variant,
        model: e.model ?? 'unknown model',
        size: typeof size === 'string' ? size : undefined,
        seconds: e.seconds ?? 0,
        sent: sentPrice(e),
        kind: 'at_risk',
      };
      all.push(attempt);
      latest.set(e.key, attempt);
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
 * The per-second price of an attempt: the one recorded when it was sent (none when recorded in
 * another currency than the ledger's), else today's.
 */
function priceOf(a: Attempt, prices: Prices): { price: number | null; today: boolean } {
  if (!a.sent) return { price: prices.of(a), today: true };
  const otherCurrency =
    a.sent.currency !== null && prices.currency !== null && a.sent.currency !== prices.currency;
  return { price: otherCurrency ? null : a.sent.unitPrice, today: false };
}

function rowOf<R>(rows: Map<string, R>, id: string, make: () => R): R {
  let row = rows.get(id);
  if (!row) rows.set(id, (row = make()));
  return row;
}

/**
 * The APIs that may hold a task of a journal's folder: each one a submission reached (a task
 * created, or one whose outcome is unknown, in flight or billed) or a done shot was carried to
 * (`rebase`). An API that refused every request before creating anything (connection refused,
 * unknown host, a 404 or 400 on the POST) holds nothing.
 */
export function basesHoldingTasks(entries: readonly JournalEntry[]): Set<string> {
  const held = new Set<string>();
  for (const a of attempts(entries)) if (a.kind !== 'refused' && a.base) held.add(a.base);
  for (const e of entries) if (e.type === 'carried') held.add(e.base);
  return held;
}

/**
 * The bill of every submission in `entries`, each priced at the price it was sent at, or, for
 * a journal that did not record it, per second by `prices` (model to price; a model without one
 * adds seconds but no cost).
 */
export function costLedger(entries: readonly JournalEntry[], prices: Prices): CostLedger {
  const ledger: CostLedger = {
    billed: none(),
    failed: none(),
    atRisk: none(),
    tasks: 0,
    unpricedSeconds: 0,
    todayPriced: 0,
    rows: [],
    accounts: [],
  };
  const rows = new Map<string, CostRow>();
  const accounts = new Map<string, AccountRow>();
  for (const a of attempts(entries)) {
    if (a.kind === 'refused') continue;
    ledger.tasks++;
    const row = rowOf(rows, `${a.variant ?? ''}\u0000${a.model}`, () => ({
      variant: a.variant,
      model: a.model,
      billed: none(),
      failed: none(),
      atRisk: none(),
    }));
    const account = rowOf(accounts, a.account ?? '', () => ({
      account: a.account,
      tasks: 0,
      billed: none(),
      failed: none(),
      atRisk: none(),
    }));
    account.tasks++;
    const field = a.kind === 'at_risk' ? 'atRisk' : a.kind;
    const { price, today } = priceOf(a, prices);
    if (today) ledger.todayPriced++;
    if (price === null && field !== 'failed') ledger.unpricedSeconds += a.seconds;
    for (const m of [row[field], account[field], ledger[field]])
      addCharge(m, a.seconds, price, prices);
  }
  ledger.rows = [...rows.values()].sort(
    (x, y) => (x.variant ?? '').localeCompare(y.variant ?? '') || x.model.localeCompare(y.model),
  );
  ledger.accounts = [...accounts.values()].sort((x, y) =>
    (x.account ?? '').localeCompare(y.account ?? ''),
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
