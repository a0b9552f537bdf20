/**
 * The shared facts of one shot in Redis, as every machine of a team reads them: the keys they
 * live under, and how a machine that did not send the shot journals what the facts say.
 */
import { createHash } from 'node:crypto';
import { cleanServerText, redactKnown } from '../api/redact.js';
import { TASK_ID } from '../api/types.js';
import { adviceText } from '../errors.js';
import { failShot, record, say, type ShotContext } from '../render/context.js';
import { charge, type ShotResult } from '../render/result.js';
import type { AssessedShot } from '../render/state.js';
import { nextSubmission } from '../render/submit.js';

/** One shot's facts: the fields of its Redis hash (see scripts.ts). */
export type Fact = Record<string, string>;

const PREFIX = 'shotlist:';
export const factKey = (key: string) => `${PREFIX}shot:${key}`;
export const leaseKey = (key: string) => `${PREFIX}lease:${key}`;
export const slotsKey = (account: string) => `${PREFIX}slots:${account}`;
/**
 * The one team-wide budget counter of shotlist before budgets had scopes: still given back
 * to by the facts that reserved from it, shown by `team status`, cleared by
 * `team reset-budget --legacy`, never counted against a scoped budget.
 */
export const LEGACY_BUDGET_KEY = `${PREFIX}budget:seconds`;
export const BUDGET_PREFIX = `${PREFIX}budget:`;

/**
 * The scope of a team budget: the account (a hash of the API base URL and key, see
 * `accountId`), and within it a campaign when one is named (its name hashed into the key, so
 * any name makes a valid key; the name itself is kept in the budget, for `team status`).
 */
export function budgetScope(account: string, campaign?: string): string {
  if (campaign === undefined) return account;
  const hashed = createHash('sha256').update(campaign).digest('hex').slice(0, 16);
  return `${account}.${hashed}`;
}
export const budgetKey = (scope: string) => `${BUDGET_PREFIX}${scope}`;

/** Long enough for a signed clip URL; a message is cut far shorter where it is shown. */
const MAX_FIELD = 4096;

/** Text read from Redis, cleaned as server text: anyone who can write there could have put it. */
export function cleanRedisText(text: string, max = MAX_FIELD): string {
  return redactKnown(cleanServerText(text, [], max));
}

/**
 * A script's flat list of fields and values as a fact, every value cleaned (escapes and
 * control characters out, keys redacted) and a malformed task id left out; `'mine'` when the
 * script said so.
 */
export function factOf(reply: unknown): Fact | 'mine' {
  const list = Array.isArray(reply) ? (reply as unknown[]) : [];
  if (list[0] === 'mine') return 'mine';
  const fact: Fact = {};
  for (let i = 0; i + 1 < list.length; i += 2) {
    const [name, value] = [list[i], list[i + 1]];
    if (typeof name !== 'string' || typeof value !== 'string') continue;
    const max = name === 'message' || name === 'code' ? 500 : MAX_FIELD;
    fact[name] = cleanRedisText(value, max);
  }
  if (fact.task_id !== undefined && !TASK_ID.test(fact.task_id)) delete fact.task_id;
  return fact;
}

/** Field/value pairs for a script, leaving out what is not set. */
export function fields(values: Record<string, string | number | undefined>): string[] {
  return Object.entries(values).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
}

/**
 * Journals here what the owner journaled: its intent (its generation and Idempotency-Key),
 * priced from this machine's plan (a price in Redis is not trusted) so `cost` and the budgets
 * count it like any other.
 */
export async function adoptIntent(ctx: ShotContext, fact: Fact): Promise<void> {
  const a = ctx.shot;
  const { gen, idem } = nextSubmission(a);
  await record(ctx, {
    type: 'intent',
    key: a.key,
    shot: { id: a.shot.id, variant: a.shot.variant, take: a.shot.take },
    gen: Number.isSafeInteger(Number(fact.gen)) && Number(fact.gen) > 0 ? Number(fact.gen) : gen,
    idem: fact.idem || idem,
    base: ctx.journalBase,
    // What the attempt may cost is counted here too, as for a submission made here.
    model: a.shot.model,
    seconds: a.shot.seconds,
    unit_price: a.shot.unit_price,
    currency: a.shot.currency,
    at: ctx.now(),
  });
}

/** The owner died between its POST and the task id: `unknown` here too, never sent again. */
export async function adoptUnknown(ctx: ShotContext, fact: Fact): Promise<ShotResult> {
  await adoptIntent(ctx, fact);
  const message = 'a machine of the team died while submitting it';
  await record(ctx, { type: 'unknown', key: ctx.shot.key, message, at: ctx.now() });
  const error = {
    code: 'unknown',
    message: `${message}; the task may exist and be billed. ${adviceText({ kind: 'retry_unknown' })}`,
  };
  ctx.result.status = 'unknown';
  ctx.result.error = error;
  ctx.result.charge = charge('at_risk', ctx.shot.shot);
  say(ctx, { type: 'unknown', error });
  return ctx.result;
}

/** The shot failed for its owner (a refused body, or a failed task): failed here too. */
export async function adoptFailed(ctx: ShotContext, fact: Fact): Promise<ShotResult> {
  await adoptIntent(ctx, fact);
  const error = { code: fact.code ?? 'failed', message: fact.message ?? 'the task failed' };
  return failShot(ctx, error, {
    type: 'failed',
    key: ctx.shot.key,
    ...(fact.task_id ? { task_id: fact.task_id } : {}),
    ...error,
    at: ctx.now(),
  });
}

/**
 * Sleeps the `waits`-th wait of a machine asking Redis again (`firstMs`, doubling up to
 * `maxMs`, so a long wait costs Redis little); false when the run stopped sending meanwhile.
 */
export async function pauseTurn(
  ctx: ShotContext,
  waits: number,
  firstMs: number,
  maxMs: number,
): Promise<boolean> {
  const ms = Math.min(maxMs, firstMs * 2 ** Math.min(waits, 8));
  // Jitter keeps the machines that wait for the same slot from asking all at once.
  await ctx.sleep(ms * (0.5 + ctx.random()), ctx.submissions).catch(() => undefined);
  return !ctx.submissions.aborted;
}

/**
 * Which shot each task id belongs to: the journal's tasks, then each sent or followed in this
 * run. A task is one shot's, so a fact naming it for another shot is refused.
 */
export class TaskOwners {
  private readonly owners = new Map<string, string>();

  constructor(shots: readonly AssessedShot[] = []) {
    for (const a of shots) if (a.journal?.taskId) this.owners.set(a.journal.taskId, a.key);
  }

  /** Whether `taskId` belongs to a shot other than the one keyed `key`. */
  othersThan(taskId: string, key: string): boolean {
    const owner = this.owners.get(taskId);
    return owner !== undefined && owner !== key;
  }

  note(taskId: string, key: string): void {
    this.owners.set(taskId, key);
  }
}

/** The facts' word about a shot is not believed: it fails here, nothing journaled. */
export function refuseFact(ctx: ShotContext, what: string): Promise<ShotResult> {
  return failShot(ctx, {
    code: 'team_fact_refused',
    message: `the team's Redis ${what}; nothing was journaled or downloaded, and the shot stays to be rendered`,
  });
}

/** What a refused fact naming another shot's task says. */
export const othersTask = (taskId: string) =>
  `names task ${taskId} for this shot, but it is another shot's task`;
