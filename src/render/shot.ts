/**
 * One shot through a run: a cached clip is reported, an unknown submission left alone; the
 * others are submitted (or taken over) and awaited under a task slot, then fetched under a
 * download slot, so a slow download never holds back the next submission.
 */
import type { LimitFunction } from 'p-limit';
import { placeCopy } from '../safe-fs.js';
import { awaitTask } from './await.js';
import { leavePending, say, type RunContext, type ShotContext } from './context.js';
import { fetchClip } from './fetch.js';
import { startResult, type ShotResult } from './result.js';
import type { AssessedShot } from './state.js';
import { storePath } from './store.js';
import { submitShot } from './submit.js';

/** The run's limits: tasks in flight, downloads at once, and one submission at a time. */
export interface Slots {
  tasks: LimitFunction;
  downloads: LimitFunction;
  /**
   * Submissions go one by one, so once the API refuses the account no other POST is already
   * on its way: the refusal is the last request that asks for money.
   */
  posts: LimitFunction;
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
  if (a.state === 'unknown' && !a.submits) {
    result.status = 'unknown';
    result.error = {
      code: 'unknown',
      message: `${j?.error?.message ?? 'the run stopped while submitting'}; the task may exist and be billed. Resubmit with --retry-unknown`,
    };
    say(ctx, { type: 'skipped', reason: 'unknown' });
    return result;
  }
  try {
    const task = await slots.tasks(() => submitAndAwait(ctx, slots.posts));
    if ('status' in task) return task;
    return await slots.downloads(() => fetchClip(ctx, task.taskId, task.url));
  } finally {
    await ctx.team?.settle(ctx);
  }
}

/** Under a task slot: submit the shot (or take over its journaled task) and wait for its end. */
async function submitAndAwait(
  ctx: ShotContext,
  posts: LimitFunction,
): Promise<ShotResult | ToFetch> {
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
    if (turn.kind === 'follow') resumed = turn.taskId;
  }
  if (!resumed) {
    const submitted = await posts(() => (ctx.submissions.aborted ? undefined : submitShot(ctx)));
    if (!submitted) return notSent(ctx);
    if (submitted.kind !== 'task') return submitted.result;
    const { taskId, submittedAt } = submitted;
    const awaited = await awaitTask(ctx, { taskId, t0: submittedAt, fresh: true });
    return awaited.kind === 'ended' ? awaited.result : { taskId, url: awaited.url };
  }
  const t0 = j?.submittedAt || ctx.now();
  say(ctx, { type: 'submitted', taskId: resumed, resumed: true, cost: 0 });
  // The stored link may have expired or name a server that is gone: ask for a fresh one.
  if (a.state === 'download') return { taskId: resumed, url: undefined };
  const awaited = await awaitTask(ctx, { taskId: resumed, t0, fresh: false });
  return awaited.kind === 'ended' ? awaited.result : { taskId: resumed, url: awaited.url };
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
