/**
 * The render core: submits planned shots with bounded concurrency, polls them on an adaptive
 * schedule, downloads and verifies the files, and journals every step so a crash or a
 * Ctrl-C loses nothing and a re-run pays for nothing twice. All I/O with the world beyond the
 * output folder goes through the injected client; progress leaves through `onEvent`.
 */
import { setMaxListeners } from 'node:events';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { ApiClient, ClientStats } from '../api/client.js';
import { RetryableApiError } from '../api/client.js';
import type { VideoTask } from '../api/types.js';
import { ApiError } from '../errors.js';
import { costLedger, pricesOf, type ChargeKind, type CostLedger, type Money } from './cost.js';
import { roundMoney } from '../plan/budget.js';
import type { Plan, PlannedShot } from '../plan/types.js';
import { ensureDir, insideRoot, placeCopy, refuseLink, removeOwned, tempName } from '../safe-fs.js';
import type { RenderEvent, ShotError } from './events.js';
import {
  JOURNAL_FILE,
  idempotencyKey,
  openJournal,
  readJournal,
  type JournalEntry,
  type JournalWriter,
} from './journal.js';
import { DEFAULT_POLL_TUNING, DurationModel, nextPollDelay, type PollTuning } from './poll.js';
import { assessShots, type AssessedShot, type ShotState } from './state.js';
import {
  STORE_DIR,
  clipVersions,
  storeClip,
  storePath,
  versionsOf,
  type ClipVersion,
} from './store.js';

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_DEADLINE_MS = 30 * 60 * 1000;

export interface RenderOptions {
  /** The output folder: clips, journal and report go here. */
  outDir: string;
  /** Tasks in flight at once; default the plan's `concurrency`, else 4. */
  concurrency?: number;
  /** Downloads at once; default min(concurrency, 16). */
  downloadConcurrency?: number;
  /** Shot ids to render again even if done, or `all`. */
  force?: readonly string[] | 'all';
  /** Resubmit shots whose earlier submission is `unknown` (may pay twice). */
  retryUnknown?: boolean;
  /** How long one run waits for one task before leaving it pending. Default 30 min. */
  deadlineMs?: number;
  poll?: Partial<PollTuning>;
  /** Aborting stops submissions; tasks in flight are left journaled as pending. */
  signal?: AbortSignal;
  /**
   * The base URL that enters the journal key; default the client's. `--simulate` passes a
   * fixed name, since its simulator gets a new port every time.
   */
  journalBase?: string;
}

/** Checks a downloaded clip; throws when it is not a usable video. */
export type VerifyClip = (file: string, shot: PlannedShot) => Promise<void>;

export interface RenderDeps {
  client: ApiClient;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  onEvent?: (event: RenderEvent) => void;
  verify?: VerifyClip;
  /** An assessment made earlier (for the preview); read again from the journal when absent. */
  assessed?: AssessedShot[];
}

/** How a shot ended in this run. */
export type ShotOutcome =
  /** Its verified file is on disk. */
  | 'done'
  | 'failed'
  /** The submission may or may not have created a task; not resubmitted. */
  | 'unknown'
  /** A task exists but is not finished (deadline, Ctrl-C): the next run picks it up. */
  | 'pending'
  /** Not started (Ctrl-C or a stopped run before its turn). */
  | 'skipped';

export interface ShotResult {
  shot: PlannedShot;
  key: string;
  label: string;
  /** What the run found before starting it. */
  state: ShotState;
  status: ShotOutcome;
  cached: boolean;
  taskId?: string;
  /** The clip, relative to the output folder. */
  file?: { path: string; bytes: number; sha256: string };
  error?: ShotError;
  /** Epoch milliseconds. */
  submittedAt?: number;
  completedAt?: number;
  downloadedAt?: number;
  /** POSTs that created a task in this run (0 or 1). */
  submissions: number;
  /** What this run spent on it (0 when cached or resumed). */
  cost: number | null;
  /**
   * What its task means for the bill, as this run saw it: `billed` it completed, `failed` it
   * ended failed (not billed), `at_risk` its submission's outcome is unknown or it is still
   * running (it may be billed). Absent when this run saw no task end or start.
   */
  charge?: Charge;
  /** Every verified clip the journal knows for this shot, oldest first (set at the end). */
  versions?: ClipVersion[];
}

export type { Money };

export interface Charge extends Money {
  kind: ChargeKind;
}

export interface RenderResult {
  outDir: string;
  journalFile: string;
  shots: ShotResult[];
  /** The run was stopped by its signal. */
  interrupted: boolean;
  /** A 401/403 that stopped the whole run. */
  fatal?: ApiError;
  startedAt: number;
  finishedAt: number;
  /**
   * What this run's tasks bill: `cost` and `seconds` are the tasks that completed in this run;
   * `failed` ended failed (not billed); `atRisk` may be billed (unknown outcome, still running).
   * `submissions` counts the POSTs that created a task.
   */
  spent: Money & { submissions: number; failed: Money; atRisk: Money };
  /** The bill of the whole job: every run the journal records, this one included. */
  ledger: CostLedger;
  requests: ClientStats;
  /** A torn last journal line (a kill during a write) was cut off. */
  journalRepaired: boolean;
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  delay(ms, undefined, signal ? { signal } : undefined);

function errorOf(err: unknown, fallbackCode: string): ShotError {
  if (err instanceof ApiError) {
    return {
      code: err.serverCode ?? err.code ?? fallbackCode,
      message: err.serverMessage ?? err.message,
      ...(err.status !== undefined ? { status: err.status } : {}),
    };
  }
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : fallbackCode,
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
}

/**
 * Removes leftover `.part` files under `rel` (a folder of the output folder checked not to be
 * a link). It walks real folders only: a link is neither followed nor removed, and only plain
 * files are deleted, so nothing outside the folder can be reached.
 */
async function sweepPartFiles(root: string, rel: string): Promise<void> {
  const entries = await readdir(insideRoot(root, rel), { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const child = path.join(rel, e.name);
    if (e.isDirectory()) await sweepPartFiles(root, child);
    else if (e.isFile() && e.name.endsWith('.part')) await removeOwned(root, child);
  }
}

/** What a task bills, in seconds: the API's figure when the task carries one, else the plan's. */
function billedSeconds(task: VideoTask, planned: number): number {
  const given = (task as { seconds?: unknown }).seconds;
  return typeof given === 'number' && Number.isFinite(given) && given > 0 ? given : planned;
}

function charge(kind: Charge['kind'], shot: PlannedShot, seconds = shot.seconds): Charge {
  return {
    kind,
    seconds,
    cost: shot.unit_price === null ? null : roundMoney(shot.unit_price * seconds),
  };
}

/** Adds up the charges of one kind. */
export function sumCharges(charges: readonly (Charge | undefined)[], kind: Charge['kind']): Money {
  let seconds = 0;
  let cost: number | null = null;
  for (const c of charges) {
    if (c?.kind !== kind) continue;
    seconds += c.seconds;
    if (c.cost !== null) cost = (cost ?? 0) + c.cost;
  }
  return { seconds, cost };
}

/**
 * The result of a shot that shares the request of an earlier one (`source`): its clip is the
 * source's stored file under its own name; nothing is sent and nothing is charged for it.
 */
async function shareResult(
  a: AssessedShot,
  source: Promise<ShotResult>,
  outDir: string,
  emit: (e: RenderEvent) => void,
  now: () => number,
): Promise<ShotResult> {
  const src = await source;
  const base = { at: now(), shot: a.label, key: a.key };
  const result: ShotResult = {
    shot: a.shot,
    key: a.key,
    label: a.label,
    state: a.state,
    status: src.status,
    cached: src.cached,
    submissions: 0,
    cost: 0,
  };
  for (const k of ['taskId', 'submittedAt', 'completedAt', 'downloadedAt'] as const)
    if (src[k] !== undefined) Object.assign(result, { [k]: src[k] });
  if (src.status === 'done' && src.file) {
    await placeCopy(outDir, storePath(src.file.sha256), a.clip);
    result.file = { path: a.clip, bytes: src.file.bytes, sha256: src.file.sha256 };
    emit({ ...base, type: 'done', taskId: src.taskId, file: a.clip, elapsedMs: 0, cached: true });
    return result;
  }
  const error = src.error ?? { code: src.status, message: `${src.label} did not finish` };
  result.error = { ...error, message: `${error.message} (shared with ${src.label})` };
  if (src.status === 'failed') emit({ ...base, type: 'failed', taskId: src.taskId, error });
  if (src.status === 'unknown') emit({ ...base, type: 'unknown', error });
  return result;
}

/**
 * Checks the output folder before anything is sent: the folders shotlist writes into are made
 * (or found) as real folders, and the journal and thumbnails are not links.
 */
async function prepareOutputFolder(outDir: string): Promise<void> {
  await ensureDir(outDir, STORE_DIR);
  await refuseLink(outDir, JOURNAL_FILE);
  await refuseLink(outDir, 'thumbs');
}

/**
 * Renders a plan: every shot ends `done`, `failed`, `unknown`, `pending` or `skipped` in the
 * result; a failing shot never stops the others. Throws only for what prevents any work
 * (an unwritable output folder).
 */
export async function render(
  plan: Plan,
  options: RenderOptions,
  deps: RenderDeps,
): Promise<RenderResult> {
  const { client } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const emit = deps.onEvent ?? (() => undefined);
  const tuning: PollTuning = { ...DEFAULT_POLL_TUNING, ...options.poll };
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const concurrency = Math.max(1, options.concurrency ?? plan.concurrency ?? DEFAULT_CONCURRENCY);
  const outDir = path.resolve(options.outDir);
  const journalFile = path.join(outDir, JOURNAL_FILE);
  const startedAt = now();

  await prepareOutputFolder(outDir);
  const read = await readJournal(journalFile);
  // A leftover .part belongs to a download that died with its process; it will be fetched again.
  await sweepPartFiles(outDir, 'clips');
  const journal: JournalWriter = await openJournal(journalFile, read.validLength);
  const assessed =
    deps.assessed ??
    (await assessShots(plan, {
      outDir,
      baseUrl: options.journalBase ?? client.baseUrl,
      journal: read.shots,
      ...(options.force ? { force: options.force } : {}),
      ...(options.retryUnknown ? { retryUnknown: true } : {}),
    }));

  const stop = new AbortController();
  // Every waiting poll listens on it: hundreds of listeners are expected, not a leak.
  setMaxListeners(0, stop.signal);
  const onOuterAbort = () => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) stop.abort(options.signal.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let fatal: ApiError | undefined;
  const halt = (err: ApiError) => {
    fatal ??= err;
    stop.abort(err);
  };

  const model = new DurationModel();
  const taskSlots = pLimit(concurrency);
  const downloadSlots = pLimit(
    Math.max(1, options.downloadConcurrency ?? Math.min(concurrency, 16)),
  );
  const write = (entry: JournalEntry, durable = true) => journal.append(entry, { durable });

  const runOne = async (a: AssessedShot): Promise<ShotResult> => {
    const base = { at: 0, shot: a.label, key: a.key };
    const ev = (e: Record<string, unknown> & { type: RenderEvent['type'] }) =>
      emit({ ...base, ...e, at: now() } as RenderEvent);
    const result: ShotResult = {
      shot: a.shot,
      key: a.key,
      label: a.label,
      state: a.state,
      status: 'skipped',
      cached: false,
      submissions: 0,
      cost: 0,
    };
    const j = a.journal;
    if (j?.taskId) result.taskId = j.taskId;
    if (j?.submittedAt) result.submittedAt = j.submittedAt;
    if (j?.completedAt) result.completedAt = j.completedAt;

    const fail = async (error: ShotError, entry?: JournalEntry): Promise<ShotResult> => {
      if (entry) await write(entry);
      result.status = 'failed';
      result.error = error;
      ev({ type: 'failed', taskId: result.taskId, error });
      return result;
    };
    /** The task ended failed (or vanished): journaled with its id, the shot fails. */
    const failTask = (taskId: string, error: ShotError): Promise<ShotResult> =>
      fail(error, {
        type: 'failed',
        key: a.key,
        task_id: taskId,
        ...(error.code !== undefined ? { code: error.code } : {}),
        message: error.message,
        at: now(),
      });
    const pending = (reason: 'deadline' | 'interrupted'): ShotResult => {
      result.status = 'pending';
      // A task still running will be billed when it completes.
      if (!result.charge && a.state !== 'download') result.charge = charge('at_risk', a.shot);
      result.error = {
        code: reason,
        message:
          reason === 'deadline'
            ? `task ${result.taskId} is still running after ${Math.round(deadlineMs / 60000)} min; run again to pick it up`
            : `task ${result.taskId} is journaled; run again to pick it up`,
      };
      ev({ type: 'pending', taskId: result.taskId, reason });
      return result;
    };

    if (a.state === 'cached' && j?.file) {
      result.status = 'done';
      result.cached = true;
      result.file = { path: a.clip, bytes: j.file.bytes, sha256: j.file.sha256 };
      if (j.downloadedAt) result.downloadedAt = j.downloadedAt;
      ev({ type: 'cached', file: a.clip });
      ev({ type: 'done', taskId: result.taskId, file: a.clip, elapsedMs: 0, cached: true });
      return result;
    }
    if (a.state === 'unknown' && !a.submits) {
      result.status = 'unknown';
      result.error = {
        code: 'unknown',
        message: `${j?.error?.message ?? 'the run stopped while submitting'}; the task may exist and be billed. Resubmit with --retry-unknown`,
      };
      ev({ type: 'skipped', reason: 'unknown' });
      return result;
    }

    // Phase 1, under a task slot: submit (or take over) and poll until the task ends.
    const phase1 = await taskSlots(
      async (): Promise<ShotResult | { url: string | undefined; t0: number }> => {
        if (stop.signal.aborted) {
          if (result.taskId && a.state === 'in_flight') return pending('interrupted');
          result.status = 'skipped';
          ev({ type: 'skipped', reason: 'interrupted' });
          return result;
        }
        let taskId = a.submits ? undefined : j?.taskId;
        let t0 = now();
        let fresh = false;
        if (!taskId) {
          // An unknown shot keeps its generation so a server that honours Idempotency-Key dedupes it.
          const gen = a.state === 'unknown' ? (j?.gen ?? 1) : (j?.gen ?? 0) + 1;
          const idem = a.state === 'unknown' && j ? j.idem : idempotencyKey(a.key, gen);
          const ref = { id: a.shot.id, variant: a.shot.variant, take: a.shot.take };
          const base = options.journalBase ?? client.baseUrl;
          const price = { model: a.shot.model, seconds: a.shot.seconds };
          await write({
            type: 'intent',
            key: a.key,
            shot: ref,
            gen,
            idem,
            base,
            ...price,
            at: now(),
          });
          delete result.taskId;
          delete result.submittedAt;
          delete result.completedAt;
          ev({ type: 'submitting' });
          let submitted;
          try {
            submitted = await client.submit(a.shot.request, {
              idempotencyKey: idem,
              signal: stop.signal,
            });
          } catch (err) {
            const error = errorOf(err, 'submit_failed');
            if (err instanceof ApiError && err.code === 'unauthorized') {
              // A refused key created nothing: the shot failed, the run stops.
              halt(err);
              return fail(error, {
                type: 'failed',
                key: a.key,
                code: error.code,
                message: error.message,
                at: now(),
              });
            }
            await write({ type: 'unknown', key: a.key, message: error.message, at: now() });
            result.status = 'unknown';
            result.error = error;
            result.charge = charge('at_risk', a.shot);
            ev({ type: 'unknown', error });
            return result;
          }
          if (submitted.kind === 'created') {
            taskId = submitted.task.id;
            t0 = now();
            // The task id reaches the disk before anything else can happen to it.
            await write({ type: 'task', key: a.key, task_id: taskId, at: t0 });
            fresh = true;
            result.taskId = taskId;
            result.submittedAt = t0;
            result.submissions = 1;
            result.cost = a.shot.cost;
            ev({ type: 'submitted', taskId, resumed: false, cost: a.shot.cost });
          } else if (submitted.kind === 'rejected') {
            const error = errorOf(submitted.error, 'rejected');
            return fail(error, {
              type: 'failed',
              key: a.key,
              code: error.code,
              message: error.message,
              at: now(),
            });
          } else {
            const error = { ...errorOf(submitted.error, 'unknown'), code: 'unknown' };
            await write({ type: 'unknown', key: a.key, message: error.message, at: now() });
            result.status = 'unknown';
            result.charge = charge('at_risk', a.shot);
            result.error = {
              ...error,
              message: `${error.message}; the task may exist and be billed. Resubmit with --retry-unknown`,
            };
            ev({ type: 'unknown', error: result.error });
            return result;
          }
        } else {
          if (j?.submittedAt) t0 = j.submittedAt;
          ev({ type: 'submitted', taskId, resumed: true, cost: 0 });
          // The stored link may have expired or name a server that is gone: ask for a fresh one.
          if (a.state === 'download') return { url: undefined, t0 };
        }
        return poll(taskId, t0, fresh);
      },
    );
    if ('status' in phase1) return phase1;
    // Phase 2, under a download slot: the task slot is free again for the next submission.
    return downloadSlots(() => download(phase1.url));

    async function poll(
      taskId: string,
      t0: number,
      fresh: boolean,
    ): Promise<ShotResult | { url: string; t0: number }> {
      const until = now() + deadlineMs;
      let polls = 0;
      let lastRunningAge = 0;
      let retryAfter: number | undefined;
      let last: { status: string; progress: number | undefined } | undefined;
      for (;;) {
        let wait = retryAfter ?? nextPollDelay({ ageMs: now() - t0, polls, model, tuning, random });
        retryAfter = undefined;
        if (now() >= until) return pending('deadline');
        wait = Math.min(wait, Math.max(0, until - now()));
        try {
          await sleep(wait, stop.signal);
        } catch {
          return pending('interrupted');
        }
        let task: VideoTask;
        try {
          task = await client.getTask(taskId, { signal: stop.signal });
        } catch (err) {
          if (stop.signal.aborted) return pending('interrupted');
          if (err instanceof ApiError && err.code === 'unauthorized') {
            halt(err);
            return pending('interrupted');
          }
          if (err instanceof ApiError && err.code === 'task_not_found') {
            const error = errorOf(err, 'task_not_found');
            return failTask(taskId, error);
          }
          // A failed poll never fails a shot: look again later.
          polls++;
          if (err instanceof RetryableApiError) retryAfter = err.retryAfterMs;
          continue;
        }
        polls++;
        const age = now() - t0;
        if (task.status === 'completed' || task.status === 'failed') {
          if (fresh) model.add(lastRunningAge, age);
          result.completedAt = now();
        } else {
          lastRunningAge = age;
        }
        if (!last || last.status !== task.status || last.progress !== task.progress) {
          last = { status: task.status, progress: task.progress };
          ev({ type: 'status', taskId, status: task.status, progress: task.progress });
          if (task.status === 'queued' || task.status === 'in_progress') {
            await write(
              {
                type: 'status',
                key: a.key,
                task_id: taskId,
                status: task.status,
                ...(task.progress !== undefined ? { progress: task.progress } : {}),
                at: now(),
              },
              false,
            );
          }
        }
        if (task.status === 'failed') {
          result.charge = charge('failed', a.shot);
          const error: ShotError = {
            code: task.error?.code ?? 'failed',
            message: task.error?.message ?? 'the API reports the task failed without a reason',
          };
          return failTask(taskId, error);
        }
        if (task.status === 'completed') {
          const seconds = billedSeconds(task, a.shot.seconds);
          result.charge = charge('billed', a.shot, seconds);
          const url = task.metadata?.url;
          if (typeof url !== 'string' || url === '') {
            const error = {
              code: 'no_url',
              message: `task ${taskId} is completed but carries no metadata.url`,
            };
            return failTask(taskId, error);
          }
          await write({ type: 'completed', key: a.key, task_id: taskId, url, seconds, at: now() });
          return { url, t0 };
        }
      }
    }

    async function download(knownUrl: string | undefined): Promise<ShotResult> {
      const taskId = result.taskId!;
      const started = now();
      let url = knownUrl;
      let lastError: ShotError | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        if (stop.signal.aborted) return pending('interrupted');
        if (attempt > 0 || !url) {
          // The link may have expired: ask the API for a fresh one.
          try {
            const task = await client.getTask(taskId, { signal: stop.signal });
            url = task.metadata?.url ?? url;
          } catch (err) {
            if (stop.signal.aborted) return pending('interrupted');
            if (err instanceof ApiError && err.code === 'unauthorized') {
              halt(err);
              return pending('interrupted');
            }
          }
          if (!url) continue;
        }
        // An unguessable name of this run in the store folder: the download never writes where
        // a planted link could wait (`clips/<id>.mp4.part`), and only its own file is removed.
        const tmp = tempName(`${STORE_DIR}/download.mp4`, '.mp4');
        const abs = insideRoot(outDir, tmp);
        const discard = () =>
          Promise.all([removeOwned(outDir, tmp), removeOwned(outDir, `${tmp}.part`)]);
        let lastProgress = 0;
        ev({ type: 'downloading', taskId, bytes: 0, total: undefined });
        try {
          const got = await client.download(url, abs, {
            signal: stop.signal,
            onProgress: (bytes, total) => {
              const t = now();
              if (t - lastProgress < 250) return;
              lastProgress = t;
              ev({ type: 'downloading', taskId, bytes, total });
            },
          });
          try {
            await deps.verify?.(abs, a.shot);
          } catch (err) {
            await discard();
            lastError = { ...errorOf(err, 'verify_failed'), code: 'verify_failed' };
            continue;
          }
          await storeClip(outDir, tmp, got.sha256, a.clip);
          return await downloaded({ path: a.clip, bytes: got.bytes, sha256: got.sha256 }, started);
        } catch (err) {
          await discard().catch(() => undefined);
          if (stop.signal.aborted) return pending('interrupted');
          if (err instanceof ApiError && err.code === 'download_too_large') {
            // A fresh link to the same file would be just as large.
            lastError = errorOf(err, 'download_too_large');
            break;
          }
          lastError = { ...errorOf(err, 'download_failed'), code: 'download_failed' };
        }
      }
      const error = lastError ?? {
        code: 'download_failed',
        message: 'the task has no file to download',
      };
      await write({
        type: 'download_failed',
        key: a.key,
        task_id: taskId,
        message: error.message,
        at: now(),
      });
      return fail({
        ...error,
        message: `${error.message} (task ${taskId} is done; run again to fetch it without paying)`,
      });
    }

    async function downloaded(file: NonNullable<ShotResult['file']>, started: number) {
      const taskId = result.taskId!;
      result.downloadedAt = now();
      await write({ type: 'file', key: a.key, task_id: taskId, ...file, at: result.downloadedAt });
      result.file = file;
      result.status = 'done';
      ev({ type: 'downloaded', taskId, file: file.path, bytes: file.bytes, sha256: file.sha256 });
      ev({ type: 'done', taskId, file: file.path, elapsedMs: now() - started, cached: false });
      return result;
    }
  };

  for (const a of assessed) {
    if (a.state === 'cached') continue;
    emit({
      type: 'queued',
      at: now(),
      shot: a.label,
      key: a.key,
      resumed: !a.submits,
      cost: a.cost,
    });
  }
  // Tasks already running go first: they hold server capacity and cost nothing new.
  // A shot sharing an earlier one's request waits for it and takes its clip: one task, one bill.
  const order = [...assessed].sort(
    (x, y) =>
      Number(x.sharedWith !== undefined) - Number(y.sharedWith !== undefined) ||
      Number(x.submits) - Number(y.submits),
  );
  const byKey = new Map<AssessedShot, Promise<ShotResult>>();
  const sources = new Map<string, Promise<ShotResult>>();
  for (const a of order) {
    const source = a.sharedWith !== undefined ? sources.get(a.key) : undefined;
    const started = source ? shareResult(a, source, outDir, emit, now) : runOne(a);
    if (!sources.has(a.key)) sources.set(a.key, started);
    byKey.set(
      a,
      started.catch(async (err: unknown): Promise<ShotResult> => {
        // Only the journal's disk can fail here; keep the shot as data and say why.
        const error = errorOf(err, 'internal');
        emit({ type: 'failed', at: now(), shot: a.label, key: a.key, taskId: undefined, error });
        return {
          shot: a.shot,
          key: a.key,
          label: a.label,
          state: a.state,
          status: 'failed',
          cached: false,
          error,
          submissions: 0,
          cost: 0,
        };
      }),
    );
  }
  const shots = await Promise.all(assessed.map((a) => byKey.get(a)!));
  options.signal?.removeEventListener('abort', onOuterAbort);
  await journal.close();
  const { entries } = await readJournal(journalFile);
  const ledger = costLedger(entries, pricesOf(plan.shots));
  const versions = clipVersions(entries, new Set(shots.map((s) => s.key)));
  for (const s of shots) s.versions = versionsOf(versions, s.shot);

  const charges = shots.map((s) => s.charge);
  const submissions = shots.reduce((n, s) => n + s.submissions, 0);
  return {
    outDir,
    journalFile,
    shots,
    interrupted: !!options.signal?.aborted,
    ...(fatal ? { fatal } : {}),
    startedAt,
    finishedAt: now(),
    spent: {
      ...sumCharges(charges, 'billed'),
      submissions,
      failed: sumCharges(charges, 'failed'),
      atRisk: sumCharges(charges, 'at_risk'),
    },
    ledger,
    requests: client.stats(),
    journalRepaired: read.torn,
  };
}
