/**
 * Phase one of a shot: the intent reaches the journal, then the POST, then the task id, synced
 * to disk before anything else happens to it. A POST whose fate is unclear is `unknown`, never
 * sent again by itself.
 */
import { errorOf, failShot, isUnauthorized, record, say, type ShotContext } from './context.js';
import { adviceText, type ApiError } from '../errors.js';
import type { ShotError } from './events.js';
import { idempotencyKey } from './journal.js';
import { wireBody } from './wire.js';
import { charge, type ShotResult } from './result.js';
import type { AssessedShot } from './state.js';

/** How a submission ended: a task to wait for, or a shot already decided. */
export type Submitted =
  | { kind: 'task'; taskId: string; submittedAt: number }
  /** The POST may have created a task: journaled `unknown`, not resubmitted. */
  | { kind: 'unknown'; result: ShotResult }
  /** Nothing was created (a refused body or key): journaled `failed`. */
  | { kind: 'rejected'; result: ShotResult }
  /**
   * Answered 429: nothing was created (journaled `failed` without a task, so a killed run
   * sends it next time); the shot is sent again after `retryAfterMs` (the server's wait, if said).
   */
  | { kind: 'limited'; retryAfterMs: number | undefined }
  /**
   * A pool's account was refused (its key, its quota): nothing was created (journaled so), the
   * shot goes to another account. A single key's refusal is `rejected` and stops the run.
   */
  | { kind: 'refused'; error: ApiError };

/** The generation and Idempotency-Key the next submission of a shot carries. */
export function nextSubmission(a: AssessedShot): { gen: number; idem: string } {
  const j = a.journal;
  // An unknown shot keeps its generation so a server that honours Idempotency-Key dedupes it.
  const gen = a.state === 'unknown' ? (j?.gen ?? 1) : (j?.gen ?? 0) + 1;
  return { gen, idem: a.state === 'unknown' && j ? j.idem : idempotencyKey(a.key, gen) };
}

/**
 * Journals the intent and POSTs the shot's request. A shot sent again after a 429 journals its
 * intent again under the same generation and Idempotency-Key: the 429 created nothing.
 */
export async function submitShot(ctx: ShotContext): Promise<Submitted> {
  const { shot: a, result } = ctx;
  const { gen, idem } = nextSubmission(a);
  const ref = { id: a.shot.id, variant: a.shot.variant, take: a.shot.take };
  const price = {
    model: a.shot.model,
    seconds: a.shot.seconds,
    unit_price: a.shot.unit_price,
    currency: a.shot.currency,
  };
  await record(ctx, {
    type: 'intent',
    key: a.key,
    shot: ref,
    gen,
    idem,
    base: ctx.journalBase,
    ...(ctx.account !== undefined ? { account: ctx.account } : {}),
    ...price,
    at: ctx.now(),
  });
  delete result.taskId;
  delete result.submittedAt;
  delete result.completedAt;
  delete result.reportedSeconds;
  say(ctx, { type: 'submitting' });
  let submitted;
  try {
    const body = wireBody(a.shot.request, a.key, {
      pushes: ctx.pushes,
      assetOrigin: ctx.assetOrigin,
    });
    submitted = await ctx.client.submit(body, {
      idempotencyKey: idem,
      signal: ctx.submissions,
      requeue: true,
    });
  } catch (err) {
    const error = errorOf(err, 'submit_failed');
    if (isUnauthorized(err) && ctx.account !== undefined) {
      await record(ctx, {
        type: 'failed',
        key: a.key,
        code: error.code,
        message: `${error.message}; nothing was created`,
        at: ctx.now(),
      });
      return { kind: 'refused', error: err };
    }
    if (isUnauthorized(err)) {
      // A refused account created nothing: no new submissions, the tasks already sent go on.
      ctx.refuseSubmissions(err);
      return { kind: 'rejected', result: await refused(ctx, error) };
    }
    return { kind: 'unknown', result: await unknown(ctx, error, error.message) };
  }
  if (submitted.kind === 'created') {
    const taskId = submitted.task.id;
    const t0 = ctx.now();
    // The task id reaches the disk before anything else can happen to it.
    await record(ctx, { type: 'task', key: a.key, task_id: taskId, at: t0 });
    result.taskId = taskId;
    result.submittedAt = t0;
    result.submissions = 1;
    result.cost = a.shot.cost;
    say(ctx, { type: 'submitted', taskId, resumed: false, cost: a.shot.cost });
    return { kind: 'task', taskId, submittedAt: t0 };
  }
  if (submitted.kind === 'limited') {
    // On disk at once: a run killed before it sends the shot again leaves it to submit, not unknown.
    await record(ctx, {
      type: 'failed',
      key: a.key,
      code: 'rate_limited',
      message: `${submitted.error.message}; nothing was created`,
      at: ctx.now(),
    });
    return { kind: 'limited', retryAfterMs: submitted.retryAfterMs };
  }
  if (submitted.kind === 'rejected') {
    return { kind: 'rejected', result: await refused(ctx, errorOf(submitted.error, 'rejected')) };
  }
  const error = { ...errorOf(submitted.error, 'unknown'), code: 'unknown' };
  return {
    kind: 'unknown',
    result: await unknown(
      ctx,
      {
        ...error,
        message: `${error.message}; the task may exist and be billed. ${adviceText({ kind: 'retry_unknown' })}`,
      },
      error.message,
    ),
  };
}

/**
 * A shot answered 429 `times` in a row: the run leaves it (its journal says nothing was created,
 * so the next run submits it) and the others carry on.
 */
export function leftLimited(ctx: ShotContext, times: number): Promise<ShotResult> {
  return failShot(ctx, {
    code: 'rate_limited',
    message: `the API answered 429 ${times} times in a row; nothing was created, run again to send it`,
    status: 429,
  });
}

/** Nothing was created: the refusal is journaled and the shot fails. */
function refused(ctx: ShotContext, error: ShotError): Promise<ShotResult> {
  return failShot(ctx, error, {
    type: 'failed',
    key: ctx.shot.key,
    code: error.code,
    message: error.message,
    at: ctx.now(),
  });
}

/**
 * The POST may have created a task (billed or not): journaled with `journaled` as its reason,
 * never resubmitted by itself.
 */
async function unknown(ctx: ShotContext, error: ShotError, journaled: string): Promise<ShotResult> {
  await record(ctx, { type: 'unknown', key: ctx.shot.key, message: journaled, at: ctx.now() });
  ctx.result.status = 'unknown';
  ctx.result.error = error;
  ctx.result.charge = charge('at_risk', ctx.shot.shot);
  say(ctx, { type: 'unknown', error });
  return ctx.result;
}
