/**
 * The enqueuer's side of a render (`shotlist enqueue`): it sends nothing itself. Every shot
 * its run would submit goes on the team's queue with its final body; then, shot by shot, it
 * follows the shared facts until a worker's task has ended, journals what they say, and
 * downloads the clip itself from the task's URL into its own output folder, so the workers
 * need no shared filesystem. Stitching and the report follow as in any run.
 */
import { ApiError, adviceText } from '../errors.js';
import { record, say, type ShotContext, type TeamHook, type TeamTurn } from '../render/context.js';
import { fetchClip } from '../render/fetch.js';
import { charge } from '../render/result.js';
import { notSent } from '../render/shot.js';
import type { AssessedShot } from '../render/state.js';
import type { ShotResult } from '../render/result.js';
import { nextSubmission } from '../render/submit.js';
import { DEFAULT_WAIT_MS, MAX_WAIT_MS } from './board.js';
import {
  adoptFailed,
  adoptIntent,
  adoptUnknown,
  factKey,
  factOf,
  leaseKey,
  pauseTurn,
  type Fact,
  othersTask,
  refuseFact,
  TaskOwners,
} from './facts.js';
import type { ShotJob, ShotQueue } from './queue.js';
import type { TeamRedis } from './redis.js';
import { LOOK, MARK_RETRY } from './scripts.js';

/** A body that still waits for a frame of another shot's clip cannot be queued yet. */
const FRAME_PLACEHOLDER = 'shotlist-frame://';

export interface EnqueuerOptions {
  redis: TeamRedis;
  queue: ShotQueue;
  /** The base URL in the journal keys: the queue of the workers on that API. */
  base: string;
  /**
   * This machine has the team's key: a task the facts name is asked of the API, which alone
   * says how it ended and where its file is. Without it the facts are taken as they are.
   */
  verify: boolean;
  /**
   * How long an unknown shot is still watched in the facts (`enqueue --wait-unknown`), from
   * when this run finds it unknown: another machine may send it again and finish it meanwhile.
   * 0 (the default) ends it as unknown at once.
   */
  waitUnknownMs?: number;
}

/**
 * The generations of a shot's facts that answer for it (`floor` and later) and the one its job
 * is sent under. An unknown shot sent again (`--retry-unknown`) gets a generation of its own:
 * the worker that sends it may hold another key than the one whose Idempotency-Key could have
 * deduplicated it, so it is a new attempt, and the unknown one stays counted as at risk.
 */
export function generations(a: AssessedShot): { floor: number; gen: number } {
  const { gen } = nextSubmission(a);
  if (a.state === 'unknown' && a.submits) return { floor: gen, gen: gen + 1 };
  return { floor: gen, gen };
}

/** The job of a shot as this run would submit it next. */
export function jobOf(a: AssessedShot, base: string): ShotJob {
  return { key: a.key, gen: generations(a).gen, label: a.label, base, shot: a.shot };
}

/**
 * An unknown shot this run does not send again, and whose facts say nothing newer: it stays
 * unknown, as the journal already says (nothing journaled again).
 */
function stillUnknown(ctx: ShotContext): ShotResult {
  const error = {
    code: 'unknown',
    message: `its submission may have created a task (and been billed), and no machine of the team has finished it since. ${adviceText({ kind: 'retry_unknown' })}`,
  };
  ctx.result.status = 'unknown';
  ctx.result.error = error;
  say(ctx, { type: 'skipped', reason: 'unknown' });
  return ctx.result;
}

/**
 * A shot watched while unknown whose facts now name a newer attempt: its result is open again
 * (the unknown attempt stays journaled, counted as may have been billed).
 */
function reopen(ctx: ShotContext): undefined {
  ctx.result.status = 'skipped';
  delete ctx.result.error;
  delete ctx.result.charge;
  return undefined;
}

/** Whether a shot's body is ready to be sent by a machine without this run's folder. */
export function queueable(a: AssessedShot): boolean {
  return (
    a.submits &&
    a.sharedWith === undefined &&
    !JSON.stringify(a.shot.request).includes(FRAME_PLACEHOLDER)
  );
}

/** The {@link TeamHook} of an enqueuer; `close()` lets go of Redis. */
export class Enqueuer implements TeamHook {
  /** An unknown shot this run will not send is still looked up: another machine may have finished it. */
  readonly seesUnknown = true;

  private readonly owners = new TaskOwners();

  constructor(private readonly o: EnqueuerOptions) {}

  /**
   * Puts every shot whose body is ready on the queue at once, so all workers can start; the
   * unknown ones sent again (`--retry-unknown`) are marked in the facts first.
   */
  async enqueue(shots: readonly AssessedShot[]): Promise<void> {
    for (const a of shots) if (a.journal?.taskId) this.owners.note(a.journal.taskId, a.key);
    const ready = shots.filter(queueable);
    for (const a of ready) if (a.state === 'unknown') await this.markRetry(a);
    await this.o.queue.add(ready.map((a) => jobOf(a, this.o.base)));
  }

  /** Marks an unknown shot for the workers to send once more; true while the mark stands. */
  private async markRetry(a: AssessedShot): Promise<boolean> {
    const keys = [factKey(a.key), leaseKey(a.key)];
    return (await this.o.redis.script(MARK_RETRY, keys, [generations(a).gen])) === 1;
  }

  async turn(ctx: ShotContext): Promise<TeamTurn> {
    const a = ctx.shot;
    const { floor, gen } = generations(a);
    const collect = a.state === 'unknown' && !a.submits;
    let until = ctx.now() + ctx.deadlineMs;
    let seen: string | undefined;
    let held: { since: number; result: ShotResult } | undefined;
    for (let waits = 0; ; waits++) {
      if (ctx.submissions.aborted) break;
      const fact = factOf(await this.o.redis.script(LOOK, [factKey(a.key), leaseKey(a.key)], []));
      const found = fact === 'mine' ? undefined : fact;
      // The unknown attempt this run sends again: marked, its job put back until a worker takes it.
      const resend = a.submits && found?.state === 'unknown' && Number(found.gen ?? 0) < gen;
      if (resend && (await this.markRetry(a))) await this.o.queue.add([jobOf(a, this.o.base)]);
      const current = !resend && found && Number(found.gen ?? 0) >= floor ? found : undefined;
      const ended = current?.state === 'completed' || current?.state === 'failed';
      // A task this folder or this run already holds for another shot is that shot's.
      if (ended && current.task_id && this.owners.othersThan(current.task_id, a.key))
        return { kind: 'ended', result: await refuseFact(ctx, othersTask(current.task_id)) };
      if (this.o.verify && ended && current.task_id)
        return this.follow(ctx, current, current.task_id);
      if (current?.state === 'completed' && current.task_id && current.url) {
        return { kind: 'ended', result: await this.fetch(ctx, current, current.task_id) };
      }
      // A completion naming no usable task (or no URL to trust) is nothing to wait for.
      if (current?.state === 'completed')
        return {
          kind: 'ended',
          result: await refuseFact(ctx, 'says this shot completed without a valid task id and URL'),
        };
      if (current?.state === 'failed')
        return { kind: 'ended', result: await adoptFailed(ctx, current) };
      if ((collect && !current) || current?.state === 'unknown') {
        // Journaled and shown once; then watched for --wait-unknown, never queued again.
        held ??= {
          since: ctx.now(),
          result: collect ? stillUnknown(ctx) : await adoptUnknown(ctx, current!),
        };
        if (ctx.now() - held.since >= (this.o.waitUnknownMs ?? 0)) break;
        if (!(await pauseTurn(ctx, waits, DEFAULT_WAIT_MS, MAX_WAIT_MS))) break;
        continue;
      }
      // A shot watched while unknown that another machine sent again: no longer unknown here.
      if (held) {
        held = reopen(ctx);
        until = ctx.now() + ctx.deadlineMs;
      }
      if (current?.task_id && current.task_id !== seen) {
        seen = current.task_id;
        say(ctx, { type: 'submitted', taskId: seen, resumed: true, cost: 0 });
      }
      // A chained shot's body became ready only now; any other was queued up front (a no-op).
      if (waits === 0 && !current && !resend) await this.o.queue.add([jobOf(a, this.o.base)]);
      if (ctx.now() >= until) return { kind: 'ended', result: this.late(ctx) };
      if (!(await pauseTurn(ctx, waits, DEFAULT_WAIT_MS, MAX_WAIT_MS))) break;
    }
    // Stopped (interrupted, or an unknown shot's watch is over): an unknown shot stays unknown.
    return { kind: 'ended', result: held ? held.result : notSent(ctx) };
  }

  /**
   * The facts say a worker's task ended: the API is asked for it first. A task it does not
   * know is refused with nothing journaled; one it knows is followed as `run --team` follows
   * another machine's task, so its end, its billing and its file's URL are the API's.
   */
  private async follow(ctx: ShotContext, fact: Fact, taskId: string): Promise<TeamTurn> {
    try {
      const task = await ctx.client.getTask(taskId, { signal: ctx.signal });
      // The API does not say which prompt a task had, but a model or length other than this
      // shot's makes it another shot's task.
      const shot = ctx.shot.shot;
      if (
        (task.model && task.model !== shot.model) ||
        (task.seconds && task.seconds !== shot.seconds)
      )
        return { kind: 'ended', result: await refuseFact(ctx, othersTask(taskId)) };
    } catch (err) {
      if (err instanceof ApiError && err.code === 'task_not_found')
        return {
          kind: 'ended',
          result: await refuseFact(
            ctx,
            `names task ${taskId} for this shot, but the API has no such task`,
          ),
        };
      // Any other failed look is the poll's to retry (or, for a refused key, to stop the run).
    }
    this.owners.note(taskId, ctx.shot.key);
    await adoptIntent(ctx, fact);
    await record(ctx, { type: 'task', key: ctx.shot.key, task_id: taskId, at: ctx.now() });
    ctx.result.taskId = taskId;
    ctx.result.submittedAt = ctx.now();
    return { kind: 'follow', taskId };
  }

  /** A worker's task completed: journal its intent, task and end here, then fetch the file. */
  private async fetch(ctx: ShotContext, fact: Fact, taskId: string) {
    const { shot: a, result } = ctx;
    await adoptIntent(ctx, fact);
    await record(ctx, { type: 'task', key: a.key, task_id: taskId, at: ctx.now() });
    const seconds = Number(fact.seconds) > 0 ? Number(fact.seconds) : a.shot.seconds;
    await record(ctx, {
      type: 'completed',
      key: a.key,
      task_id: taskId,
      url: fact.url!,
      seconds,
      at: ctx.now(),
    });
    this.owners.note(taskId, a.key);
    result.taskId = taskId;
    result.completedAt = ctx.now();
    result.charge = charge('billed', a.shot, seconds);
    return fetchClip(ctx, taskId, fact.url);
  }

  /** No worker ended the shot within the run's deadline: it stays queued for the next run. */
  private late(ctx: ShotContext) {
    const result = notSent(ctx);
    result.error = {
      code: 'deadline',
      message: `no worker finished it within ${Math.round(ctx.deadlineMs / 60000)} min; it stays queued, run enqueue again to collect it`,
    };
    return result;
  }

  /** Nothing to mirror: an enqueuer sends nothing, and what it journals comes from the facts. */
  async mirror(): Promise<void> {}

  async settle(): Promise<void> {}

  async close(): Promise<void> {
    await this.o.queue.close();
    await this.o.redis.close();
  }
}
