/**
 * The per-shot context every phase of a render works in: the shot, the journal, the client,
 * the clock and the run's stop signal, passed in explicitly so each phase runs against fakes.
 */
import type { ApiClient } from '../api/client.js';
import { ApiError } from '../errors.js';
import type { PlannedShot } from '../plan/types.js';
import { shotEvent, type ShotError, type ShotEventBody, type RenderEvent } from './events.js';
import type { JournalEntry, JournalWriter } from './journal.js';
import type { DurationModel, PollTuning } from './poll.js';
import type { PushBoard } from './receiver.js';
import { charge, type ShotResult } from './result.js';
import type { AssessedShot } from './state.js';
import type { HashCache } from './store.js';

/** Checks a downloaded clip; throws when it is not a usable video. */
export type VerifyClip = (file: string, shot: PlannedShot) => Promise<void>;

/** The part of the API client a render uses. */
export type RenderClient = Pick<ApiClient, 'baseUrl' | 'submit' | 'getTask' | 'download'>;

/** What every shot of one run shares. */
export interface RunContext {
  client: RenderClient;
  journal: Pick<JournalWriter, 'append'>;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  emit: (event: RenderEvent) => void;
  /** Aborted by the caller's signal or a refused key: nothing new is sent, tasks stay pending. */
  signal: AbortSignal;
  /** Stops the whole run: the key was refused even for looking at tasks. */
  halt: (err: ApiError) => void;
  /**
   * Aborted with `signal`, or alone when the API refused the account for a new task: nothing
   * new is sent, while the tasks already sent (paid for) are still awaited and fetched.
   */
  submissions: AbortSignal;
  /** Stops new submissions only: the account was refused on a POST. */
  refuseSubmissions: (err: ApiError) => void;
  /** The output folder, absolute. */
  outDir: string;
  /** The run's hashes: a clip hashed as it downloaded is not read again before the stitch. */
  hashes?: HashCache;
  /** The API base URL recorded in each intent. */
  journalBase: string;
  /** How long one run waits for one task. */
  deadlineMs: number;
  tuning: PollTuning;
  /** Durations of this run's finished tasks: the poll schedule learns from them. */
  model: DurationModel;
  verify?: VerifyClip;
  /** The push receiver's side of the run (`--listen`): tokens, pending pushes, wakers. */
  pushes?: PushBoard;
  /** A simulated run: the address of its simulator, filled into each body sent (see wire.ts). */
  assetOrigin?: string;
  /** Team mode (`--team`): the facts and limits shared with the other machines. */
  team?: TeamHook;
  /** The pool account a shot's task is sent to or held by (`--accounts`); set per shot. */
  account?: string;
}

/** What team mode makes of a shot this machine would submit. */
export type TeamTurn =
  /** This machine holds the claim, a global task slot and the budget: it submits. */
  | { kind: 'submit' }
  /** Another machine submitted it: this one awaits that task and downloads the file itself. */
  | { kind: 'follow'; taskId: string }
  /** Decided without a task to await here (unknown, failed, over the team budget). */
  | { kind: 'ended'; result: ShotResult };

/**
 * The shared state of the machines of a team (implemented in src/team). Every entry this
 * machine journals also passes through {@link TeamHook.mirror}, so the shared facts follow
 * the local journal.
 */
export interface TeamHook {
  /** Decides, before a submission, whether this machine sends the shot. */
  turn(ctx: ShotContext): Promise<TeamTurn>;
  /** Mirrors one entry just journaled here into the shared facts. */
  mirror(entry: JournalEntry): Promise<void>;
  /** The shot is over on this machine: the leases it held are let go. */
  settle(ctx: ShotContext): Promise<void>;
  /**
   * {@link turn} also takes the unknown shots this run does not send again: what the team has
   * made of them since (an enqueuer collects what other machines finished).
   */
  readonly seesUnknown?: boolean;
}

/** One shot in one run. */
export interface ShotContext extends RunContext {
  shot: AssessedShot;
  /** What the run has made of the shot so far: each phase fills it in. */
  result: ShotResult;
}

/** A shot's error from anything thrown or returned: the server's code and message first. */
export function errorOf(err: unknown, fallbackCode: string): ShotError {
  if (err instanceof ApiError) {
    return {
      code: err.serverCode ?? err.code ?? fallbackCode,
      message: err.serverMessage ?? err.message,
      ...(err.status !== undefined ? { status: err.status } : {}),
    };
  }
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  return {
    code: typeof e?.code === 'string' ? e.code : fallbackCode,
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
}

/** Whether an error means the account was refused (its key, or its quota): the run must stop. */
export function isUnauthorized(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.code === 'unauthorized' || err.code === 'quota_exhausted');
}

/** Emits an event of this shot, stamped with its label, key and the time. */
export function say(ctx: Pick<ShotContext, 'emit' | 'now' | 'shot'>, body: ShotEventBody): void {
  ctx.emit(shotEvent({ shot: ctx.shot.label, key: ctx.shot.key }, ctx.now(), body));
}

/** Appends to the journal; durable entries resolve once synced to disk. */
export function record(ctx: RunContext, entry: JournalEntry, durable = true): Promise<void> {
  return ctx.journal.append(entry, { durable });
}

/** The shot failed: journals `entry` when given, and ends the shot as `failed`. */
export async function failShot(
  ctx: ShotContext,
  error: ShotError,
  entry?: JournalEntry,
): Promise<ShotResult> {
  if (entry) await record(ctx, entry);
  ctx.result.status = 'failed';
  ctx.result.error = error;
  say(ctx, { type: 'failed', taskId: ctx.result.taskId, error });
  return ctx.result;
}

/** The task ended failed (or vanished): journaled with its id, the shot fails. */
export function failTask(ctx: ShotContext, taskId: string, error: ShotError): Promise<ShotResult> {
  return failShot(ctx, error, {
    type: 'failed',
    key: ctx.shot.key,
    task_id: taskId,
    code: error.code,
    message: error.message,
    at: ctx.now(),
  });
}

/** The task is journaled but not finished: the next run picks it up. */
export function leavePending(
  ctx: ShotContext,
  taskId: string,
  reason: 'deadline' | 'interrupted',
): ShotResult {
  const { result } = ctx;
  result.status = 'pending';
  // A task still running will be billed when it completes.
  if (!result.charge && ctx.shot.state !== 'download')
    result.charge = charge('at_risk', ctx.shot.shot);
  result.error = {
    code: reason,
    message:
      reason === 'deadline'
        ? `task ${taskId} is still running after ${Math.round(ctx.deadlineMs / 60000)} min; run again to pick it up`
        : `task ${taskId} is journaled; run again to pick it up`,
  };
  say(ctx, { type: 'pending', taskId, reason });
  return result;
}
