/**
 * Phase two of a shot: wait for its task on the adaptive schedule of `poll.ts` until it
 * completes, fails, runs past the run's deadline or the run stops. A failed look never fails
 * a shot; only the task's own end does. With a push receiver, a shot submitted in this run
 * waits for its push (then looks once) and polls only on the slow safety schedule.
 */
import { RetryableApiError } from '../api/client.js';
import type { VideoTask } from '../api/types.js';
import { ApiError } from '../errors.js';
import {
  errorOf,
  failTask,
  isUnauthorized,
  leavePending,
  record,
  say,
  type ShotContext,
} from './context.js';
import { nextPollDelay, nextSafetyDelay } from './poll.js';
import { charge, type ShotResult } from './result.js';

/** How the wait ended: a file to fetch, or a shot already decided (failed or pending). */
export type Awaited = { kind: 'completed'; url: string } | { kind: 'ended'; result: ShotResult };

/** The task being waited for. */
export interface AwaitedTask {
  taskId: string;
  /** When it was submitted (or this run took it over): its age counts from here. */
  t0: number;
  /** Submitted in this run: its duration teaches the poll schedule. */
  fresh: boolean;
}

/** What the loop remembers between looks. */
interface Watch {
  polls: number;
  lastRunningAge: number;
  last: { status: string; progress: number | undefined } | undefined;
  /** A push is due: the schedule is the safety net's. */
  pushed: boolean;
}

/** Polls the task until it ends, the deadline passes or the run stops. */
export async function awaitTask(ctx: ShotContext, task: AwaitedTask): Promise<Awaited> {
  try {
    return await pollTask(ctx, task);
  } finally {
    // Pushes after the wait (replays, late duplicates) are counted and do nothing.
    ctx.pushes?.close(ctx.shot.key);
  }
}

async function pollTask(ctx: ShotContext, task: AwaitedTask): Promise<Awaited> {
  const { now } = ctx;
  const key = ctx.shot.key;
  const pushed = ctx.pushes?.expects(key) === true;
  const ended = async (result: ShotResult | Promise<ShotResult>): Promise<Awaited> => ({
    kind: 'ended',
    result: await result,
  });
  const until = now() + ctx.deadlineMs;
  const watch: Watch = { polls: 0, lastRunningAge: 0, last: undefined, pushed };
  let retryAfter: number | undefined;
  for (;;) {
    const schedule = {
      ageMs: now() - task.t0,
      polls: watch.polls,
      model: ctx.model,
      tuning: ctx.tuning,
      random: ctx.random,
    };
    let wait = retryAfter ?? (pushed ? nextSafetyDelay(schedule) : nextPollDelay(schedule));
    retryAfter = undefined;
    if (now() >= until) return ended(leavePending(ctx, task.taskId, 'deadline'));
    wait = Math.min(wait, Math.max(0, until - now()));
    // Pushes that came during the last look are answered by one look now, however many.
    if (!(pushed && ctx.pushes!.take(key))) {
      try {
        if (await sleepOrPush(ctx, wait)) watch.lastRunningAge = now() - task.t0;
      } catch {
        return ended(leavePending(ctx, task.taskId, 'interrupted'));
      }
    }
    let seen: VideoTask;
    try {
      seen = await ctx.client.getTask(task.taskId, { signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) return ended(leavePending(ctx, task.taskId, 'interrupted'));
      if (isUnauthorized(err)) {
        ctx.halt(err);
        return ended(leavePending(ctx, task.taskId, 'interrupted'));
      }
      if (err instanceof ApiError && err.code === 'task_not_found') {
        return ended(failTask(ctx, task.taskId, errorOf(err, 'task_not_found')));
      }
      // A failed poll never fails a shot: look again later.
      watch.polls++;
      if (err instanceof RetryableApiError) retryAfter = err.retryAfterMs;
      continue;
    }
    watch.polls++;
    const outcome = await observe(ctx, task, seen, watch);
    if (outcome) return outcome;
  }
}

/**
 * Waits `ms`, or less when a push for the shot comes first; true when a push woke it (the
 * task ended about now, which the schedule learns). Throws when the run stops.
 */
async function sleepOrPush(ctx: ShotContext, ms: number): Promise<boolean> {
  const { pushes, signal } = ctx;
  if (!pushes?.expects(ctx.shot.key)) {
    await ctx.sleep(ms, signal);
    return false;
  }
  const woken = new AbortController();
  const stop = () => woken.abort();
  signal.addEventListener('abort', stop, { once: true });
  const unsubscribe = pushes.onPush(ctx.shot.key, stop);
  try {
    await ctx.sleep(ms, woken.signal);
    return false;
  } catch (err) {
    if (signal.aborted) throw err;
    return pushes.take(ctx.shot.key);
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', stop);
  }
}

/** Takes in one look at the task; returns how the wait ends once the task has ended. */
async function observe(
  ctx: ShotContext,
  { taskId, t0, fresh }: AwaitedTask,
  seen: VideoTask,
  watch: Watch,
): Promise<Awaited | undefined> {
  const { shot: a, result, now } = ctx;
  const age = now() - t0;
  if (seen.status === 'completed' || seen.status === 'failed') {
    // A push or a look that saw it running bounds when it ended; a first look after a lost
    // push does not (the task ended any time before), and would teach the schedule too short.
    if (fresh && !(watch.pushed && watch.lastRunningAge === 0))
      ctx.model.add(watch.lastRunningAge, age);
    result.completedAt = now();
  } else {
    watch.lastRunningAge = age;
  }
  if (watch.last?.status !== seen.status || watch.last.progress !== seen.progress) {
    watch.last = { status: seen.status, progress: seen.progress };
    say(ctx, { type: 'status', taskId, status: seen.status, progress: seen.progress });
    if (seen.status === 'queued' || seen.status === 'in_progress') {
      await record(
        ctx,
        {
          type: 'status',
          key: a.key,
          task_id: taskId,
          status: seen.status,
          ...(seen.progress !== undefined ? { progress: seen.progress } : {}),
          at: now(),
        },
        false,
      );
    }
  }
  if (seen.status === 'failed') {
    result.charge = charge('failed', a.shot);
    const error = {
      code: seen.error?.code ?? 'failed',
      message: seen.error?.message ?? 'the API reports the task failed without a reason',
    };
    return { kind: 'ended', result: await failTask(ctx, taskId, error) };
  }
  if (seen.status !== 'completed') return undefined;
  const seconds = billedSeconds(seen, a.shot.seconds);
  result.charge = charge('billed', a.shot, seconds);
  const url = seen.metadata?.url;
  if (typeof url !== 'string' || url === '') {
    const error = {
      code: 'no_url',
      message: `task ${taskId} is completed but carries no metadata.url`,
    };
    return { kind: 'ended', result: await failTask(ctx, taskId, error) };
  }
  const reported = seen.seconds !== undefined && seen.seconds > 0 ? seen.seconds : undefined;
  if (reported !== undefined) result.reportedSeconds = reported;
  await record(ctx, {
    type: 'completed',
    key: a.key,
    task_id: taskId,
    url,
    seconds,
    ...(reported !== undefined ? { reported_seconds: reported } : {}),
    ...(seen.usage ? { usage: seen.usage } : {}),
    at: now(),
  });
  return { kind: 'completed', url };
}

/** What a task bills, in seconds: the API's figure when the task carries one, else the plan's. */
function billedSeconds(task: VideoTask, planned: number): number {
  const given: unknown = task.seconds;
  return typeof given === 'number' && Number.isFinite(given) && given > 0 ? given : planned;
}
