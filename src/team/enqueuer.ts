/**
 * The enqueuer's side of a render (`shotlist enqueue`): it sends nothing itself. Every shot
 * its run would submit goes on the team's queue with its final body; then, shot by shot, it
 * follows the shared facts until a worker's task has ended, journals what they say, and
 * downloads the clip itself from the task's URL into its own output folder, so the workers
 * need no shared filesystem. Stitching and the report follow as in any run.
 */
import { ApiError } from '../errors.js';
import {
  failShot,
  record,
  say,
  type ShotContext,
  type TeamHook,
  type TeamTurn,
} from '../render/context.js';
import { fetchClip } from '../render/fetch.js';
import { charge } from '../render/result.js';
import { notSent } from '../render/shot.js';
import type { AssessedShot } from '../render/state.js';
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
} from './facts.js';
import type { ShotJob, ShotQueue } from './queue.js';
import type { TeamRedis } from './redis.js';
import { LOOK } from './scripts.js';

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
}

/** The job of a shot as this run would submit it next. */
export function jobOf(a: AssessedShot, base: string): ShotJob {
  return { key: a.key, gen: nextSubmission(a).gen, label: a.label, base, shot: a.shot };
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
  constructor(private readonly o: EnqueuerOptions) {}

  /** Puts every shot whose body is ready on the queue at once, so all workers can start. */
  async enqueue(shots: readonly AssessedShot[]): Promise<void> {
    await this.o.queue.add(shots.filter(queueable).map((a) => jobOf(a, this.o.base)));
  }

  async turn(ctx: ShotContext): Promise<TeamTurn> {
    const a = ctx.shot;
    const { gen } = nextSubmission(a);
    const until = ctx.now() + ctx.deadlineMs;
    let seen: string | undefined;
    for (let waits = 0; ; waits++) {
      if (ctx.submissions.aborted) return { kind: 'ended', result: notSent(ctx) };
      const fact = factOf(await this.o.redis.script(LOOK, [factKey(a.key), leaseKey(a.key)], []));
      const current = fact !== 'mine' && Number(fact.gen ?? 0) >= gen ? fact : undefined;
      const ended = current?.state === 'completed' || current?.state === 'failed';
      if (this.o.verify && ended && current.task_id)
        return this.follow(ctx, current, current.task_id);
      if (current?.state === 'completed' && current.task_id && current.url) {
        return { kind: 'ended', result: await this.fetch(ctx, current, current.task_id) };
      }
      // A completion naming no usable task (or no URL to trust) is nothing to wait for.
      if (current?.state === 'completed') return { kind: 'ended', result: await this.refuse(ctx) };
      if (current?.state === 'failed')
        return { kind: 'ended', result: await adoptFailed(ctx, current) };
      if (current?.state === 'unknown')
        return { kind: 'ended', result: await adoptUnknown(ctx, current) };
      if (current?.task_id && current.task_id !== seen) {
        seen = current.task_id;
        say(ctx, { type: 'submitted', taskId: seen, resumed: true, cost: 0 });
      }
      // A chained shot's body became ready only now; any other was queued up front (a no-op).
      if (waits === 0 && !current) await this.o.queue.add([jobOf(a, this.o.base)]);
      if (ctx.now() >= until) return { kind: 'ended', result: this.late(ctx) };
      if (!(await pauseTurn(ctx, waits, DEFAULT_WAIT_MS, MAX_WAIT_MS)))
        return { kind: 'ended', result: notSent(ctx) };
    }
  }

  /**
   * The facts say a worker's task ended: the API is asked for it first. A task it does not
   * know is refused with nothing journaled; one it knows is followed as `run --team` follows
   * another machine's task, so its end, its billing and its file's URL are the API's.
   */
  private async follow(ctx: ShotContext, fact: Fact, taskId: string): Promise<TeamTurn> {
    try {
      await ctx.client.getTask(taskId, { signal: ctx.signal });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'task_not_found')
        return { kind: 'ended', result: await this.refuse(ctx, taskId) };
      // Any other failed look is the poll's to retry (or, for a refused key, to stop the run).
    }
    await adoptIntent(ctx, fact);
    await record(ctx, { type: 'task', key: ctx.shot.key, task_id: taskId, at: ctx.now() });
    ctx.result.taskId = taskId;
    ctx.result.submittedAt = ctx.now();
    return { kind: 'follow', taskId };
  }

  /** The facts' completion is not believed: the shot fails here, nothing journaled. */
  private refuse(ctx: ShotContext, taskId?: string) {
    const named = taskId
      ? `names task ${taskId} for this shot, but the API has no such task`
      : 'says this shot completed without a valid task id and URL';
    const error = {
      code: 'team_fact_refused',
      message: `the team's Redis ${named}; nothing was journaled or downloaded, and the shot stays to be rendered`,
    };
    return failShot(ctx, error);
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
