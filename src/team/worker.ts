/**
 * A team worker (`shotlist run --team ... --worker`): takes shots from the queue of every
 * manifest enqueued for its API, claims each by its journal key with the same claim as
 * `run --team` (so a shot is sent once, whoever else renders it), submits it with this
 * machine's key, polls until the task ends and leaves the outcome in the shared facts. It
 * writes no file: the enqueuer downloads the clip. Its journal is the shared facts alone.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { createApiClient } from '../api/client.js';
import type { ApiError } from '../errors.js';
import { awaitTask } from '../render/await.js';
import { record, type RunContext, type ShotContext } from '../render/context.js';
import type { RenderEvent } from '../render/events.js';
import { accountGate } from '../render/limiter.js';
import { DEFAULT_POLL_TUNING, DurationModel } from '../render/poll.js';
import { startResult, type ShotResult } from '../render/result.js';
import { postUntilTaken } from '../render/shot.js';
import type { AssessedShot } from '../render/state.js';
import { submitShot } from '../render/submit.js';
import { DEFAULT_DEADLINE_MS } from '../render/render.js';
import type { TeamBoard } from './board.js';
import { checkJob } from './job.js';
import { openTeam } from './open.js';
import { startShotWorker, type ShotJob } from './queue.js';

export interface WorkerOptions {
  url: URL;
  /** This machine's key: it submits and polls with it, and only its hash reaches Redis. */
  apiKey: string;
  /** The API it sends to, as the journal keys hold it: it takes that API's queue only. */
  base: string;
  /** Tasks in flight at once for the key over the whole team (and jobs this worker holds). */
  cap: number;
  budgetSeconds?: number;
  /** The campaign within the account whose budget it counts in (`--team-campaign`). */
  campaign?: string;
  /** Aborted (Ctrl-C, SIGTERM): no new job and no new POST; the polls under way finish. */
  signal: AbortSignal;
  onEvent?: (event: RenderEvent) => void;
  /** The worker is connected and takes jobs. */
  onReady?: () => void;
  /** A note for the worker's log (the legacy budget counter of an older shotlist). */
  onNote?: (line: string) => void;
}

/** How a worker's shots ended, counted when it stops. */
export interface WorkerSummary {
  done: number;
  failed: number;
  unknown: number;
  /** The API refused the key: the worker stopped. */
  fatal?: ApiError;
}

/** The outcome of one job: `requeue` when the shot was left undecided for another worker. */
type Outcome = keyof Omit<WorkerSummary, 'fatal'> | 'requeue';

/** The job as a shot to submit: the generation the enqueuer's journal gives it next. */
function assessedOf(job: ShotJob): AssessedShot {
  const ref = { id: job.shot.id, variant: job.shot.variant, take: job.shot.take };
  return {
    shot: job.shot,
    key: job.key,
    label: job.label,
    clip: '',
    state: 'new',
    failures: 0,
    submits: true,
    cost: job.shot.cost,
    journal:
      job.gen > 1
        ? { key: job.key, shot: ref, gen: job.gen - 1, idem: '', phase: 'failed', intentAt: 0 }
        : undefined,
  };
}

function outcomeOf(result: ShotResult): Outcome {
  if (result.status === 'done' || result.status === 'failed' || result.status === 'unknown')
    return result.status;
  return 'requeue';
}

/**
 * Claimed: submits with this worker's key, posting again after a 429 as `render` does. A
 * worker has one key, never a pool, so a refused key is no account to retire: it is thrown.
 */
async function send(ctx: ShotContext): Promise<ShotResult | { taskId: string; t0: number }> {
  const posted = await postUntilTaken(ctx, async () => {
    if (ctx.submissions.aborted) return undefined;
    const submitted = await submitShot(ctx);
    if (submitted.kind === 'refused') throw submitted.error;
    return { submitted };
  });
  return 'submitted' in posted
    ? { taskId: posted.submitted.taskId, t0: posted.submitted.submittedAt }
    : posted;
}

/** One shot: claimed and sent here, or another machine's task followed to its end. */
async function workShot(ctx: ShotContext, board: TeamBoard): Promise<Outcome> {
  const turn = await board.turn(ctx);
  if (turn.kind === 'ended') {
    const { error } = turn.result;
    // The enqueuer learns it from the facts alone: nothing was sent, the team budget is spent.
    if (error?.code === 'team_budget')
      await record(ctx, {
        type: 'failed',
        key: ctx.shot.key,
        code: error.code,
        message: error.message,
        at: ctx.now(),
      });
    return outcomeOf(turn.result);
  }
  let task = { taskId: '', t0: ctx.now(), fresh: false };
  if (turn.kind === 'follow') task.taskId = turn.taskId;
  else {
    const sent = await send(ctx);
    if ('status' in sent) return outcomeOf(sent);
    task = { ...sent, fresh: true };
  }
  const awaited = await awaitTask(ctx, task);
  return awaited.kind === 'completed' ? 'done' : outcomeOf(awaited.result);
}

/** The context every shot of the worker shares: its journal is the shared facts. */
function workerContext(o: WorkerOptions, board: TeamBoard, stop: AbortController) {
  const polls = new AbortController();
  setMaxListeners(0, polls.signal, stop.signal);
  let fatal: ApiError | undefined;
  const sleep = (ms: number, signal?: AbortSignal) =>
    delay(ms, undefined, signal ? { signal } : undefined);
  const client = createApiClient({
    baseUrl: o.base,
    apiKey: o.apiKey,
    connections: Math.min(128, Math.max(8, o.cap * 2)),
    gate: accountGate(o.cap, undefined, sleep),
  });
  const refuse = (err: ApiError) => {
    fatal ??= err;
    stop.abort(err);
  };
  const run: RunContext = {
    client,
    journal: { append: (entry) => board.mirror(entry) },
    now: Date.now,
    sleep,
    random: Math.random,
    emit: o.onEvent ?? (() => undefined),
    signal: polls.signal,
    halt: (err) => {
      refuse(err);
      polls.abort(err);
    },
    submissions: stop.signal,
    refuseSubmissions: refuse,
    outDir: process.cwd(),
    journalBase: o.base,
    deadlineMs: DEFAULT_DEADLINE_MS,
    tuning: DEFAULT_POLL_TUNING,
    model: new DurationModel(),
    team: board,
  };
  return { run, client, fatal: () => fatal };
}

/**
 * Works until `signal` is aborted (or the key is refused): then takes no new job, sends
 * nothing new, lets the polls under way finish, and returns what its shots came to. A shot
 * claimed but not sent goes back to the queue for another worker.
 */
export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const board = await openTeam({
    url: o.url,
    apiKey: o.apiKey,
    baseUrl: o.base,
    cap: o.cap,
    ...(o.budgetSeconds !== undefined ? { budgetSeconds: o.budgetSeconds } : {}),
    ...(o.campaign !== undefined ? { campaign: o.campaign } : {}),
    ...(o.onNote ? { warn: o.onNote } : {}),
  });
  const stop = new AbortController();
  const { run, client, fatal } = workerContext(o, board, stop);
  const counts = { done: 0, failed: 0, unknown: 0 };
  const work = async (data: ShotJob) => {
    // Anyone who can write to Redis can queue a job: it is checked before anything is sent.
    const checked = checkJob(data, o.base);
    const a = assessedOf(checked.job);
    const ctx: ShotContext = { ...run, shot: a, result: startResult(a, 'skipped') };
    let outcome: Outcome;
    try {
      outcome =
        'refused' in checked
          ? outcomeOf(await board.refuse(ctx, checked.refused))
          : await workShot(ctx, board);
    } finally {
      await board.settle(ctx);
    }
    // Thrown, the job goes back to the queue: another worker claims or follows the shot.
    if (outcome === 'requeue')
      throw new Error(`${checked.job.label}: left undecided by a stopping worker`);
    counts[outcome]++;
  };
  try {
    const worker = await startShotWorker(o.url, o.base, o.cap, work);
    o.onReady?.();
    const onStop = () => stop.abort(o.signal.reason);
    if (o.signal.aborted) onStop();
    o.signal.addEventListener('abort', onStop, { once: true });
    if (!stop.signal.aborted) await new Promise((r) => stop.signal.addEventListener('abort', r));
    o.signal.removeEventListener('abort', onStop);
    await worker.close();
  } finally {
    await board.close();
    await client.close();
  }
  const refused = fatal();
  return { ...counts, ...(refused ? { fatal: refused } : {}) };
}
