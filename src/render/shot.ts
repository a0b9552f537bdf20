/**
 * One shot through a run: a cached clip is reported, an unknown submission left alone; the
 * others are submitted (or taken over) and awaited under a task slot, then fetched under a
 * download slot, so a slow download never holds back the next submission.
 */
import type { LimitFunction } from 'p-limit';
import { backoffDelay } from '../api/retry.js';
import { adviceText } from '../errors.js';
import { placeCopy } from '../safe-fs.js';
import { awaitTask } from './await.js';
import { leavePending, say, type RunContext, type ShotContext } from './context.js';
import { fetchClip } from './fetch.js';
import type { AccountPool, PoolAccount } from './accounts.js';
import type { Limiter } from './limiter.js';
import { startResult, type ShotResult } from './result.js';
import type { AssessedShot } from './state.js';
import { storePath } from './store.js';
import { leftLimited, submitShot, type Submitted } from './submit.js';

/**
 * The run's limits: shots worked on at once (the ceiling), the account's adaptive window of
 * tasks in flight, downloads at once, and one submission at a time.
 */
export interface Slots {
  tasks: <T>(fn: () => Promise<T>) => Promise<T>;
  limiter: Limiter;
  downloads: LimitFunction;
  /**
   * Submissions go one by one, so once the API refuses the account no other POST is already
   * on its way: the refusal is the last request that asks for money.
   */
  posts: LimitFunction;
  /** An account pool (`--accounts`): each submission goes to one of its accounts, not `limiter`'s. */
  pool?: AccountPool;
}

/** A finished task whose file is still to fetch (`url` absent: ask the API again). */
interface ToFetch {
  taskId: string;
  url: string | undefined;
}

/** Renders one assessed shot; every outcome is data on its result. */
export async function renderShot(
  run: RunContext,
  a: AssessedShot,
  slots: Slots,
): Promise<ShotResult> {
  const ctx: ShotContext = { ...run, shot: a, result: startResult(a, 'skipped') };
  const { result } = ctx;
  const j = a.journal;
  if (j?.taskId) result.taskId = j.taskId;
  if (j?.submittedAt) result.submittedAt = j.submittedAt;
  if (j?.completedAt) result.completedAt = j.completedAt;
  if (j?.reportedSeconds !== undefined) result.reportedSeconds = j.reportedSeconds;

  if (a.state === 'cached' && j?.file) {
    result.status = 'done';
    result.cached = true;
    result.file = { path: a.clip, bytes: j.file.bytes, sha256: j.file.sha256 };
    if (j.downloadedAt) result.downloadedAt = j.downloadedAt;
    say(ctx, { type: 'cached', file: a.clip });
    say(ctx, { type: 'done', taskId: result.taskId, file: a.clip, elapsedMs: 0, cached: true });
    return result;
  }
  if (a.state === 'unknown' && !a.submits && !ctx.team?.seesUnknown) {
    result.status = 'unknown';
    result.error = {
      code: 'unknown',
      message: `${j?.error?.message ?? 'the run stopped while submitting'}; the task may exist and be billed. ${adviceText({ kind: 'retry_unknown' })}`,
    };
    say(ctx, { type: 'skipped', reason: 'unknown' });
    return result;
  }
  try {
    const task = await slots.tasks(() => submitAndAwait(ctx, slots));
    if ('status' in task) return task;
    return await slots.downloads(() => fetchClip(ctx, task.taskId, task.url));
  } finally {
    await ctx.team?.settle(ctx);
  }
}

/** Under a task slot: submit the shot (or take over its journaled task) and wait for its end. */
async function submitAndAwait(ctx: ShotContext, slots: Slots): Promise<ShotResult | ToFetch> {
  const { shot: a, result } = ctx;
  const j = a.journal;
  if (ctx.signal.aborted) {
    if (result.taskId && a.state === 'in_flight') {
      return leavePending(ctx, result.taskId, 'interrupted');
    }
    return notSent(ctx);
  }
  let resumed = a.submits ? undefined : j?.taskId;
  if (!resumed && ctx.team) {
    const turn = await ctx.team.turn(ctx);
    if (turn.kind === 'ended') return turn.result;
    if (turn.kind === 'follow') {
      resumed = turn.taskId;
      ctx.result.followed = true;
    }
  }
  if (!resumed) {
    const sent = await sendShot(ctx, slots);
    if ('status' in sent) return sent;
    return awaitHeld(ctx, sent.limiter, sent.taskId, sent.submittedAt, true);
  }
  // Only the account that created a task may look at it: the pool's, or the single key.
  const holder = holderOf(ctx, slots, j?.account);
  if (!holder) return leftWithAccount(ctx, resumed, j?.account, !!slots.pool);
  const t0 = j?.submittedAt || ctx.now();
  say(ctx, { type: 'submitted', taskId: resumed, resumed: true, cost: 0 });
  // The stored link may have expired or name a server that is gone: ask for a fresh one.
  if (a.state === 'download') return { taskId: resumed, url: undefined };
  // A task taken over holds a place of the account like any other.
  holder.adopt();
  return awaitHeld(ctx, holder, resumed, t0, false);
}

/**
 * The window of the account holding a journaled task, with `ctx` pointed at that account;
 * undefined when this run has no such account (the task is left in flight, never resubmitted).
 */
function holderOf(
  ctx: ShotContext,
  slots: Slots,
  account: string | undefined,
): Limiter | undefined {
  if (!slots.pool) return account === undefined ? slots.limiter : undefined;
  const held = account === undefined ? undefined : slots.pool.byName(account);
  if (held) useAccount(ctx, slots.pool, held);
  return held?.limiter;
}

/** Waits for a task counted in the account's window; its place is freed when it ends. */
async function awaitHeld(
  ctx: ShotContext,
  limiter: Limiter,
  taskId: string,
  t0: number,
  fresh: boolean,
): Promise<ShotResult | ToFetch> {
  try {
    const awaited = await awaitTask(ctx, { taskId, t0, fresh });
    return awaited.kind === 'ended' ? awaited.result : { taskId, url: awaited.url };
  } finally {
    limiter.ended();
  }
}

/** The wait before a shot answered 429 without Retry-After is sent again. */
const LIMITED_BACKOFF = { baseMs: 500, maxMs: 20_000 };

/** 429s one shot may meet in a row before the run leaves it for the next run. */
const MAX_LIMITED = 20;

type Taken<T> = T & { submitted: Extract<Submitted, { kind: 'task' }> };

/**
 * Posts the shot through `post` until the API takes it or decides it. A 429 created nothing:
 * the shot is posted again after the server's Retry-After (else a backoff), at most
 * {@link MAX_LIMITED} times in a row, so this never submits it twice. A pool's refused account
 * was retired by the pool: the next post goes to another. `post` resolves undefined when
 * submissions stopped before anything was sent. Shared by `render` and the team worker.
 */
export async function postUntilTaken<T extends { submitted: Submitted }>(
  ctx: ShotContext,
  post: () => Promise<T | undefined>,
): Promise<ShotResult | Taken<T>> {
  for (let attempt = 0; attempt < MAX_LIMITED; attempt++) {
    const posted = await post();
    if (!posted) return notSent(ctx);
    const { submitted } = posted;
    if (submitted.kind === 'task') return posted as Taken<T>;
    if (submitted.kind === 'refused') continue;
    if (submitted.kind !== 'limited') return submitted.result;
    const wait =
      submitted.retryAfterMs ?? backoffDelay(attempt, { ...LIMITED_BACKOFF, random: ctx.random });
    say(ctx, { type: 'limited', waitMs: wait });
    await ctx.sleep(wait, ctx.submissions).catch(() => undefined);
  }
  return leftLimited(ctx, MAX_LIMITED);
}

/**
 * Submits the shot within the account's window. The place is taken inside the one-at-a-time
 * POST section, so each POST goes out under the window its predecessor's answer left. A 429
 * gives the place back and cuts the window before the shot is posted again.
 */
async function sendShot(
  ctx: ShotContext,
  slots: Slots,
): Promise<ShotResult | { taskId: string; submittedAt: number; limiter: Limiter }> {
  const posted = await postUntilTaken(ctx, () => slots.posts(() => postInWindow(ctx, slots)));
  return 'submitted' in posted ? { ...posted.submitted, limiter: posted.limiter } : posted;
}

/**
 * Inside the one-at-a-time POST section: waits for a place in the window, POSTs, and tells the
 * limiter the answer before the next POST may go, so each goes out under the window its
 * predecessor's answer left. Undefined when submissions stopped first (nothing sent).
 */
async function postInWindow(
  ctx: ShotContext,
  slots: Slots,
): Promise<{ submitted: Submitted; limiter: Limiter } | undefined> {
  if (ctx.submissions.aborted) return undefined;
  if (slots.pool) return postToPool(ctx, slots.pool);
  const { limiter } = slots;
  const placed = await limiter.acquire(ctx.submissions).then(
    () => true,
    () => false,
  );
  if (!placed) return undefined;
  const submitted = await submitShot(ctx).catch((err: unknown) => {
    limiter.dropped();
    throw err;
  });
  if (submitted.kind === 'task') limiter.created();
  else if (submitted.kind === 'limited') limiter.limited();
  else limiter.dropped();
  return { submitted, limiter };
}

/** {@link postInWindow} for a pool: the account with the most room takes the shot. */
async function postToPool(
  ctx: ShotContext,
  pool: AccountPool,
): Promise<{ submitted: Submitted; limiter: Limiter } | undefined> {
  const account = await pool.acquire(ctx.submissions);
  if (!account) return undefined;
  useAccount(ctx, pool, account);
  const { limiter } = account;
  const submitted = await submitShot(ctx).catch((err: unknown) => {
    limiter.dropped();
    throw err;
  });
  if (submitted.kind === 'task') {
    limiter.created();
    pool.created(account);
  } else if (submitted.kind === 'limited') {
    limiter.limited();
  } else {
    limiter.dropped();
    if (submitted.kind === 'refused') pool.refused(account, submitted.error);
    if (submitted.kind === 'unknown') pool.failed(account, submitted.result.error?.message ?? '');
  }
  return { submitted, limiter };
}

/**
 * Points a shot at a pool account: its client, its name in the journal, and a refusal of its
 * polls that retires that account only (the shot's task is left for the next run).
 */
function useAccount(ctx: ShotContext, pool: AccountPool, account: PoolAccount): void {
  ctx.client = account.client;
  ctx.account = account.name;
  ctx.halt = (err) => pool.refused(account, err);
}

/**
 * A journaled task whose account this run does not have: it stays in flight (never sent
 * again), with the account to add back, or the flag to run with.
 */
function leftWithAccount(
  ctx: ShotContext,
  taskId: string,
  account: string | undefined,
  pooled: boolean,
): ShotResult {
  const result = leavePending(ctx, taskId, 'interrupted');
  result.error = {
    code: 'account_missing',
    message:
      account === undefined
        ? `task ${taskId} was sent with the single key (SHOTLIST_API_KEY), not an account of the pool; ${adviceText({ kind: 'take_pool_task', account })}`
        : pooled
          ? `task ${taskId} is held by account ${account}, which this run does not have; add ${account} back to the accounts file (with its key variable) and run again to pick it up`
          : `task ${taskId} is held by account ${account} of an accounts file; ${adviceText({ kind: 'take_pool_task', account })}`,
  };
  return result;
}

/** The run stopped sending before this shot: nothing sent, it is still to do next run. */
export function notSent(ctx: ShotContext): ShotResult {
  ctx.result.status = 'skipped';
  say(ctx, { type: 'skipped', reason: 'interrupted' });
  return ctx.result;
}

/**
 * The result of a shot that shares the request of an earlier one (`source`): its clip is the
 * source's stored file under its own name; nothing is sent and nothing is charged for it.
 */
export async function shareResult(
  run: Pick<RunContext, 'outDir' | 'emit' | 'now'>,
  a: AssessedShot,
  source: Promise<ShotResult>,
): Promise<ShotResult> {
  const src = await source;
  const ctx = { ...run, shot: a };
  const result = { ...startResult(a, src.status), cached: src.cached };
  for (const k of ['taskId', 'submittedAt', 'completedAt', 'downloadedAt'] as const)
    if (src[k] !== undefined) Object.assign(result, { [k]: src[k] });
  if (src.status === 'done' && src.file) {
    await placeCopy(run.outDir, storePath(src.file.sha256), a.clip);
    result.file = { path: a.clip, bytes: src.file.bytes, sha256: src.file.sha256 };
    say(ctx, { type: 'done', taskId: src.taskId, file: a.clip, elapsedMs: 0, cached: true });
    return result;
  }
  const error = src.error ?? { code: src.status, message: `${src.label} did not finish` };
  result.error = { ...error, message: `${error.message} (shared with ${src.label})` };
  if (src.status === 'failed') say(ctx, { type: 'failed', taskId: src.taskId, error });
  if (src.status === 'unknown') say(ctx, { type: 'unknown', error });
  return result;
}
