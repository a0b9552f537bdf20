/**
 * The team's budgets, slots and claims as a person sees them (`shotlist team status`), and
 * the reset of a budget (`shotlist team reset-budget`). A budget belongs to one account (a
 * hash of the API base URL and key) and, within it, optionally to one campaign: clients with
 * other keys or gateways under the same Redis each count their own. Everything read here was
 * written by whoever can write to the Redis: numbers are checked, text is cleaned.
 */
import { optionText } from '../errors.js';
import { BUDGET_PREFIX, LEGACY_BUDGET_KEY, budgetKey, cleanRedisText, slotsKey } from './facts.js';
import type { TeamRedis } from './redis.js';
import { LEGACY_LOOK, RESET_BUDGET, RESET_LEGACY, STATUS } from './scripts.js';

/** One scoped budget. Seconds: `used` by completed tasks, `reserved` by the others. */
export interface BudgetRow {
  /** What `team reset-budget --scope` takes: the account's hash, then the campaign's. */
  scope: string;
  account: string;
  campaign: string | null;
  /** The API base URL its machines send to (as they recorded it). */
  base: string | null;
  used: number;
  /** Tasks in flight, and attempts that may have been billed (unknown). */
  reserved: number;
  /** The last `--team-budget` a machine counted against it. */
  limit: number | null;
}

export interface TeamStatus {
  budgets: BudgetRow[];
  /** Seconds on the single team-wide counter of an older shotlist, if Redis still holds it. */
  legacySeconds: number | null;
  /** Task slots in use per account (leases not yet run out). */
  slots: { account: string; inUse: number }[];
  /** Claims held by live machines, and how many machines hold them. */
  claims: { held: number; machines: number };
}

/** A scope as `budgetScope` makes it: the account's hash, then the campaign's, if any. */
export const SCOPE = /^[0-9a-f]{32}(\.[0-9a-f]{16})?$/;

const count = (v: unknown): number => {
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
};

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);

/** A budget's hash (a flat list of fields and values) as a row; undefined for a foreign key. */
function budgetRow(key: unknown, list: unknown): BudgetRow | undefined {
  if (typeof key !== 'string' || !key.startsWith(BUDGET_PREFIX)) return undefined;
  const scope = key.slice(BUDGET_PREFIX.length);
  if (!SCOPE.test(scope)) return undefined;
  const f: Record<string, string> = {};
  const flat = asList(list);
  for (let i = 0; i + 1 < flat.length; i += 2)
    if (typeof flat[i] === 'string' && typeof flat[i + 1] === 'string')
      f[flat[i] as string] = flat[i + 1] as string;
  const used = count(f.used);
  const limit = f.limit === undefined || f.limit === '' ? null : count(f.limit);
  return {
    scope,
    account: scope.slice(0, 32),
    campaign: f.campaign ? cleanRedisText(f.campaign, 200) : null,
    base: f.base ? cleanRedisText(f.base, 500) : null,
    used,
    reserved: Math.max(0, count(f.counted) - used),
    limit,
  };
}

/** Everything `team status` shows, read in one script. */
export async function readTeamStatus(redis: TeamRedis): Promise<TeamStatus> {
  const raw = await redis.script(STATUS, [], [LEGACY_BUDGET_KEY]);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(String(raw)) as Record<string, unknown>;
  } catch {
    // An unreadable answer shows as an empty team rather than as a crash.
  }
  const budgets = asList(parsed.budgets)
    .map((b) => budgetRow(asList(b)[0], asList(b)[1]))
    .filter((b): b is BudgetRow => b !== undefined)
    .sort((a, b) => a.scope.localeCompare(b.scope));
  const slots = asList(parsed.slots)
    .map((s) => {
      const [key, inUse] = asList(s);
      const account = typeof key === 'string' ? key.slice(slotsKey('').length) : '';
      return { account, inUse: count(inUse) };
    })
    .filter((s) => /^[0-9a-f]{32}$/.test(s.account) && s.inUse > 0);
  const owners = asList(parsed.leases).filter((o): o is string => typeof o === 'string');
  return {
    budgets,
    legacySeconds: parsed.legacy === undefined ? null : count(parsed.legacy),
    slots,
    claims: { held: owners.length, machines: new Set(owners).size },
  };
}

/** One scoped budget as it stands (zeros when nothing was counted in it yet). */
export async function readBudget(redis: TeamRedis, scope: string): Promise<BudgetRow> {
  const status = await readTeamStatus(redis);
  return (
    status.budgets.find((b) => b.scope === scope) ?? {
      scope,
      account: scope.slice(0, 32),
      campaign: null,
      base: null,
      used: 0,
      reserved: 0,
      limit: null,
    }
  );
}

/**
 * Forgets the seconds a scoped budget's completed tasks used; what is in flight stays
 * reserved. Returns the seconds forgotten and those still counted.
 */
export async function resetBudget(
  redis: TeamRedis,
  scope: string,
): Promise<{ forgotten: number; counted: number }> {
  const [forgotten, counted] = asList(await redis.script(RESET_BUDGET, [budgetKey(scope)], []));
  return { forgotten: count(forgotten), counted: count(counted) };
}

/**
 * What a machine with a budget says when the legacy counter of an older shotlist is still in
 * Redis: it is no longer counted, and how to see and clear it. Undefined when there is none.
 */
export async function legacyBudgetNote(redis: TeamRedis): Promise<string | undefined> {
  const held = await redis.script(LEGACY_LOOK, [LEGACY_BUDGET_KEY], []);
  if (held === null || held === false || held === undefined) return undefined;
  return `note: the team's Redis still holds the single team-wide budget counter of an older shotlist (${count(held)} s); budgets are now per account (API and key) and campaign, so it is no longer counted against ${optionText('teamBudget')}: \`shotlist team status\` shows it, \`shotlist team reset-budget ${optionText('legacy')}\` clears it`;
}

/** Deletes the legacy team-wide counter; returns the seconds it held. */
export async function resetLegacyBudget(redis: TeamRedis): Promise<number> {
  return count(await redis.script(RESET_LEGACY, [LEGACY_BUDGET_KEY], []));
}
