/**
 * The render core: submits assessed shots with bounded concurrency, polls them on an adaptive
 * schedule, downloads and verifies the files, and journals every step so a crash or a
 * Ctrl-C loses nothing and a re-run pays for nothing twice. All I/O with the world beyond the
 * output folder goes through the injected client; progress leaves through `onEvent`. Each
 * shot goes through three phases, each in its own module: `submit.ts`, `await.ts`, `fetch.ts`.
 */
import { setMaxListeners } from 'node:events';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { ApiClient } from '../api/client.js';
import type { ApiError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import { ensureDir, insideRoot, refuseLink, removeOwned } from '../safe-fs.js';
import { errorOf, type RunContext, type TeamHook, type VerifyClip } from './context.js';
import { costLedger, pricesOf } from './cost.js';
import type { RenderEvent } from './events.js';
import { AccountPool, type PoolMember } from './accounts.js';
import { Limiter } from './limiter.js';
import {
  JOURNAL_FILE,
  liveJournal,
  readJournal,
  type JournalWriter,
  type LiveJournal,
} from './journal.js';
import { DEFAULT_POLL_TUNING, DurationModel, chainedTuning, type PollTuning } from './poll.js';
import { startResult, sumCharges, type RenderResult, type ShotResult } from './result.js';
import type { PushBoard } from './receiver.js';
import { renderShot, shareResult, type Slots } from './shot.js';
import {
  afterUpstream,
  chainLengths,
  rankedLimit,
  type RankedLimit,
  type ShotGraph,
} from './graph.js';
import type { AssessedShot } from './state.js';
import { STORE_DIR, clipVersions, versionsOf, type HashCache } from './store.js';

export type { Charge, Money, RenderResult, ShotOutcome, ShotResult } from './result.js';
export { sumCharges } from './result.js';
export type { VerifyClip } from './context.js';

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_DEADLINE_MS = 30 * 60 * 1000;

export interface RenderOptions {
  /** The output folder: clips, journal and report go here. */
  outDir: string;
  /**
   * Tasks in flight at once, the ceiling of the adaptive window (cut on 429, grown back on
   * success); default the plan's `concurrency`, else 4.
   */
  concurrency?: number;
  /** Downloads at once; default min(concurrency, 16). */
  downloadConcurrency?: number;
  /** How long one run waits for one task before leaving it pending. Default 30 min. */
  deadlineMs?: number;
  poll?: Partial<PollTuning>;
  /** Aborting stops submissions; tasks in flight are left journaled as pending. */
  signal?: AbortSignal;
  /**
   * The base URL each intent records, the one the shots were assessed with; default the
   * client's. `--simulate` passes a fixed name, since its simulator gets a new port every time.
   */
  journalBase?: string;
  /** The output folder's journal, already read by the caller; default: read here. */
  journal?: LiveJournal;
  /** The hashes of the run's job (see {@link HashCache}). */
  hashes?: HashCache;
}

export interface RenderDeps {
  client: ApiClient;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  onEvent?: (event: RenderEvent) => void;
  verify?: VerifyClip;
  /** Team mode: shared facts and limits (src/team). */
  team?: TeamHook;
  /** Pushes from a receiver started by the caller (`--listen`): hints to look now. */
  pushes?: PushBoard;
  /** A simulated run: the address of its simulator, filled into each body sent (see wire.ts). */
  assetOrigin?: string;
  /** Shots that wait for others' clips (chained frames): when they start, and how. */
  graph?: ShotGraph;
  /**
   * An account pool (`--accounts`): submissions spread over these accounts, each within its
   * own window, and each task is awaited through the account that holds it. `client` then
   * serves only what is not an account's (uploads, frames).
   */
  accounts?: readonly PoolMember[];
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  delay(ms, undefined, signal ? { signal } : undefined);

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

/**
 * Checks the output folder before anything is sent (the folders shotlist writes into are made
 * or found as real folders, the journal and thumbnails are not links), then opens the journal,
 * cutting off a torn last line.
 */
async function openOutput(
  outDir: string,
  journalFile: string,
  held: LiveJournal | undefined,
): Promise<{ journal: JournalWriter; live: LiveJournal }> {
  await ensureDir(outDir, STORE_DIR);
  await refuseLink(outDir, JOURNAL_FILE);
  await refuseLink(outDir, 'thumbs');
  const live = held ?? liveJournal(journalFile, await readJournal(journalFile));
  // A leftover .part belongs to a download that died with its process; it will be fetched again.
  await sweepPartFiles(outDir, 'clips');
  return { journal: await live.open(), live };
}

/**
 * The run's stop signals: `signal` aborted by the caller's signal, or by {@link halt} when the
 * key is refused even for polls; `submissions` also by {@link refuseSubmissions} when a POST
 * is refused (the tasks already sent are still awaited). The first refusal is the run's `fatal`.
 */
function stopSwitch(outer: AbortSignal | undefined) {
  const stop = new AbortController();
  const submit = new AbortController();
  // Every waiting poll listens on it: hundreds of listeners are expected, not a leak.
  setMaxListeners(0, stop.signal);
  setMaxListeners(0, submit.signal);
  const onOuterAbort = () => stop.abort(outer?.reason);
  if (outer?.aborted) stop.abort(outer.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  stop.signal.addEventListener('abort', () => submit.abort(stop.signal.reason), { once: true });
  if (stop.signal.aborted) submit.abort(stop.signal.reason);
  let fatal: ApiError | undefined;
  return {
    signal: stop.signal,
    submissions: submit.signal,
    halt: (err: ApiError) => {
      fatal ??= err;
      stop.abort(err);
    },
    refuseSubmissions: (err: ApiError) => {
      fatal ??= err;
      submit.abort(err);
    },
    fatal: () => fatal,
    release: () => outer?.removeEventListener('abort', onOuterAbort),
  };
}

/**
 * Starts every shot: tasks already running go first (they hold server capacity and cost
 * nothing new); a shot sharing an earlier one's request waits for it and takes its clip (one
 * task, one bill). Resolves with the results in the order of `assessed`.
 */
async function renderAll(
  run: RunContext,
  assessed: readonly AssessedShot[],
  slots: Omit<Slots, 'tasks'> & { tasks: RankedLimit },
  graph: ShotGraph | undefined,
): Promise<ShotResult[]> {
  for (const a of assessed) {
    if (a.state === 'cached') continue;
    run.emit({
      type: 'queued',
      at: run.now(),
      shot: a.label,
      key: a.key,
      resumed: !a.submits,
      cost: a.cost,
    });
  }
  const order = [...assessed].sort(
    (x, y) =>
      Number(x.sharedWith !== undefined) - Number(y.sharedWith !== undefined) ||
      Number(x.submits) - Number(y.submits),
  );
  // Tasks already running first (they hold server capacity), then the longest chains.
  const lengths = chainLengths(assessed, graph);
  const slotsOf = (a: AssessedShot): Slots => {
    const rank = a.submits ? (lengths.get(a) ?? 1) : Infinity;
    return { ...slots, tasks: (fn) => slots.tasks(fn, rank) };
  };
  const chained = { ...run, tuning: chainedTuning(run.tuning) };
  const runOf = (a: AssessedShot) => ((lengths.get(a) ?? 1) > 1 ? chained : run);
  const byShot = new Map<AssessedShot, Promise<ShotResult>>();
  const sources = new Map<string, Promise<ShotResult>>();
  // A shot may wait for one started later in the order: each waits on a promise made up front.
  const settle = new Map<AssessedShot, (r: Promise<ShotResult>) => void>();
  const resultOf = new Map(
    assessed.map((a) => [a, new Promise<ShotResult>((resolve) => settle.set(a, resolve))]),
  );
  for (const a of order) {
    const source = a.sharedWith !== undefined ? sources.get(a.key) : undefined;
    const started = source
      ? shareResult(run, a, source)
      : afterUpstream(
          run,
          a,
          graph,
          (up) => resultOf.get(up) ?? Promise.resolve({ ...startResult(up, 'skipped') }),
          (ready) => renderShot(runOf(a), ready, slotsOf(a)),
        );
    if (!sources.has(a.key)) sources.set(a.key, started);
    byShot.set(
      a,
      started.catch((err: unknown): ShotResult => {
        // Only the journal's disk can fail here; keep the shot as data and say why.
        const error = errorOf(err, 'internal');
        run.emit({
          type: 'failed',
          at: run.now(),
          shot: a.label,
          key: a.key,
          taskId: undefined,
          error,
        });
        return { ...startResult(a, 'failed'), error };
      }),
    );
    settle.get(a)!(byShot.get(a)!);
  }
  return Promise.all(assessed.map((a) => byShot.get(a)!));
}

/**
 * Renders assessed shots of a plan (see `assessShots`): every shot ends `done`, `failed`,
 * `unknown`, `pending` or `skipped` in the result; a failing shot never stops the others.
 * Throws only for what prevents any work (an unwritable output folder).
 */
export async function render(
  plan: Plan,
  assessed: readonly AssessedShot[],
  options: RenderOptions,
  deps: RenderDeps,
): Promise<RenderResult> {
  const { client } = deps;
  const now = deps.now ?? Date.now;
  const concurrency = Math.max(1, options.concurrency ?? plan.concurrency ?? DEFAULT_CONCURRENCY);
  const outDir = path.resolve(options.outDir);
  const journalFile = path.join(outDir, JOURNAL_FILE);
  const startedAt = now();

  const { journal, live } = await openOutput(outDir, journalFile, options.journal);
  const stop = stopSwitch(options.signal);
  const team = deps.team;
  const run: RunContext = {
    client,
    // Local first: the journal on disk stays the authority of this machine.
    journal: team
      ? {
          append: async (entry, opts) => {
            await journal.append(entry, opts);
            await team.mirror(entry);
          },
        }
      : journal,
    now,
    sleep: deps.sleep ?? defaultSleep,
    random: deps.random ?? Math.random,
    emit: deps.onEvent ?? (() => undefined),
    signal: stop.signal,
    halt: stop.halt,
    submissions: stop.submissions,
    refuseSubmissions: stop.refuseSubmissions,
    outDir,
    ...(options.hashes ? { hashes: options.hashes } : {}),
    journalBase: options.journalBase ?? client.baseUrl,
    deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS,
    tuning: { ...DEFAULT_POLL_TUNING, ...options.poll },
    model: new DurationModel(),
    ...(deps.verify ? { verify: deps.verify } : {}),
    ...(deps.pushes ? { pushes: deps.pushes } : {}),
    ...(deps.assetOrigin !== undefined ? { assetOrigin: deps.assetOrigin } : {}),
    ...(team ? { team } : {}),
  };
  const slots = {
    tasks: rankedLimit(concurrency),
    limiter: new Limiter(concurrency, (change) =>
      run.emit({
        type: 'limit',
        at: run.now(),
        shot: '',
        key: '',
        concurrency: change.window,
        ceiling: change.ceiling,
        reason: change.reason,
      }),
    ),
    downloads: pLimit(Math.max(1, options.downloadConcurrency ?? Math.min(concurrency, 16))),
    posts: pLimit(1),
    ...(deps.accounts
      ? {
          pool: new AccountPool(deps.accounts, {
            emit: run.emit,
            now,
            refuseAll: stop.refuseSubmissions,
          }),
        }
      : {}),
  };
  const shots = await renderAll(run, assessed, slots, deps.graph);
  stop.release();
  await journal.close();

  const { entries } = live;
  const versions = clipVersions(entries, new Set(shots.map((s) => s.key)));
  for (const s of shots) s.versions = versionsOf(versions, s.shot);
  // A task another machine of the team sent is paid there: shown apart, never added here.
  const charges = shots.filter((s) => !s.followed).map((s) => s.charge);
  const followed = shots.filter((s) => s.followed).map((s) => s.charge);
  const fatal = stop.fatal();
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
      submissions: shots.reduce((n, s) => n + s.submissions, 0),
      failed: sumCharges(charges, 'failed'),
      atRisk: sumCharges(charges, 'at_risk'),
      ...(followed.length > 0 ? { followed: sumCharges(followed, 'billed') } : {}),
    },
    ledger: costLedger(entries, pricesOf(plan.shots)),
    requests: slots.pool ? slots.pool.stats() : client.stats(),
    ...(slots.pool ? { accounts: slots.pool.outcomes() } : {}),
    journalRepaired: live.torn,
  };
}
