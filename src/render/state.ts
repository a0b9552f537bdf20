/**
 * What a run would do with each planned shot, read from the journal and the files on disk
 * without sending anything. Shared by `run` (the preview and the budget) and `status`.
 */
import pLimit from 'p-limit';
import { addMoney } from '../plan/money.js';
import { UsageError, adviceText, optionText } from '../errors.js';
import type { Plan, PlannedShot } from '../plan/types.js';
import { clipPath, journalKey, pickKey, shotLabel } from '../manifest/identity.js';
import type { JournalShot } from './journal.js';
import { restoreClip, type HashCache } from './store.js';

export { hashFile } from './store.js';

/** The fate of a planned shot in the coming run. */
export type ShotState =
  /** Never sent: it will be submitted and paid for. */
  | 'new'
  /** Its verified file is on disk: skipped, nothing paid. */
  | 'cached'
  /** A task exists and is not finished: polled again, never resubmitted. */
  | 'in_flight'
  /** The task finished but the file is missing or changed: downloaded again, nothing paid. */
  | 'download'
  /** A submission may or may not have created a task: skipped unless `--retry-unknown`. */
  | 'unknown'
  /** It failed or was refused last time: submitted again. */
  | 'retry'
  /** Its tasks failed `maxAttempts` times (e.g. the content filter): not submitted again without `--force`. */
  | 'gave_up'
  /** Asked for with `--force`: submitted again although it is done. */
  | 'forced';

export interface AssessedShot {
  shot: PlannedShot;
  key: string;
  label: string;
  /**
   * Where its clip goes, relative to the output folder: always derived from the shot, never
   * read from the journal. When `cached`, the file there is present and verified.
   */
  clip: string;
  state: ShotState;
  /** The label of the earlier shot with the same request, whose task and clip this one shares. */
  sharedWith?: string;
  /** Tasks of its request that ended failed, over every run (from the journal). */
  failures: number;
  /** Whether the coming run will POST it (and pay for it). */
  submits: boolean;
  /** The new spend it causes: its cost when it submits, else 0. */
  cost: number | null;
  journal: JournalShot | undefined;
}

export interface AssessOptions {
  outDir: string;
  baseUrl: string;
  journal: Map<string, JournalShot>;
  /** Shot ids to render again even if done, or `all`. */
  force?: readonly string[] | 'all';
  retryUnknown?: boolean;
  /** Failed tasks per request after which it is no longer submitted; default {@link DEFAULT_MAX_ATTEMPTS}. */
  maxAttempts?: number;
  /** The hashes the job has taken: a clip checked before and unchanged since is not read again. */
  hashes?: HashCache;
}

/** Failed tasks per request body before a run stops submitting it (manifest `max_attempts`). */
const DEFAULT_MAX_ATTEMPTS = 2;

/** Why a given-up shot is not sent, and how to send it anyway. */
export function gaveUpMessage(a: Pick<AssessedShot, 'shot' | 'failures' | 'journal'>): string {
  const code = a.journal?.error?.code ?? 'failed';
  return `failed ${a.failures} time${a.failures === 1 ? '' : 's'} (${code}): not submitted again; ${adviceText({ kind: 'force_shot', shot: a.shot.id })}`;
}

/** Takes per shot id and variant: `.take<N>` appears in file names only when there are several. */
export function multiTakeShots(plan: Pick<Plan, 'shots'>): Set<string> {
  const counts = new Map<string, number>();
  for (const s of plan.shots) {
    const k = pickKey(s.id, s.variant);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return new Set([...counts].filter(([, n]) => n > 1).map(([k]) => k));
}

/**
 * Decides, for every planned shot, whether the run submits, resumes, downloads or skips it. A
 * done shot whose named clip is missing or changed is linked again from the clip store when
 * the store holds its verified file (`cached`, nothing fetched).
 */
export async function assessShots(
  plan: Pick<Plan, 'shots'>,
  options: AssessOptions,
): Promise<AssessedShot[]> {
  const multi = multiTakeShots(plan);
  const forced = (id: string) => options.force === 'all' || (options.force?.includes(id) ?? false);
  // Checking a done shot hashes its clip: a few at a time, or a thousand shots would hold a
  // read buffer each at once.
  const hashing = pLimit(8);
  const assessed = await Promise.all(
    plan.shots.map(async (shot): Promise<AssessedShot> => {
      const isMulti = multi.has(pickKey(shot.id, shot.variant));
      const clip = clipPath(shot, isMulti);
      const key = journalKey(shot.request, shot.take, options.baseUrl);
      const j = options.journal.get(key);
      let state: ShotState;
      if (forced(shot.id)) state = 'forced';
      else if (!j) state = 'new';
      else {
        switch (j.phase) {
          case 'downloaded':
            state =
              j.file &&
              (await hashing(() => restoreClip(options.outDir, clip, j.file!, options.hashes)))
                ? 'cached'
                : 'download';
            break;
          case 'completed':
            state = 'download';
            break;
          case 'submitted':
            state = 'in_flight';
            break;
          case 'failed':
            state =
              (j.failedTasks ?? 0) >= (options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
                ? 'gave_up'
                : 'retry';
            break;
          case 'submitting':
          case 'unknown':
            state = 'unknown';
            break;
        }
      }
      const submits =
        state === 'new' ||
        state === 'retry' ||
        state === 'forced' ||
        (state === 'unknown' && !!options.retryUnknown);
      return {
        shot,
        key,
        label: shotLabel(shot, isMulti),
        clip,
        state,
        failures: j?.failedTasks ?? 0,
        submits,
        cost: submits ? shot.cost : 0,
        journal: j,
      };
    }),
  );
  return markSharers(assessed);
}

/**
 * A shot whose request is the body of an earlier shot of the plan (same take) is not sent: it
 * shares that shot's task and clip, at cost 0.
 */
function markSharers(assessed: AssessedShot[]): AssessedShot[] {
  const first = new Map<string, AssessedShot>();
  for (const a of assessed) {
    const source = first.get(a.key);
    if (!source) first.set(a.key, a);
    else {
      // A body given up on but forced under another id is rendered once, for both.
      const state = a.state === 'gave_up' && source.submits ? source.state : a.state;
      Object.assign(a, { state, submits: false, cost: 0, sharedWith: source.label });
    }
  }
  return assessed;
}

/** Counts and new spend of an assessment: what the run is about to do. */
export interface AssessmentSummary {
  counts: Record<ShotState, number>;
  /** Shots that will be POSTed. */
  submits: number;
  /** Seconds billed by those submissions. */
  newSeconds: number;
  /** Cost of those submissions; null when none of them has a price. */
  newCost: number | null;
  /** Seconds among them without a price. */
  unpricedSeconds: number;
}

export function summarizeAssessment(shots: readonly AssessedShot[]): AssessmentSummary {
  const counts: Record<ShotState, number> = {
    new: 0,
    cached: 0,
    in_flight: 0,
    download: 0,
    unknown: 0,
    retry: 0,
    gave_up: 0,
    forced: 0,
  };
  let submits = 0;
  let newSeconds = 0;
  let newCost: number | null = null;
  let unpricedSeconds = 0;
  for (const a of shots) {
    counts[a.state]++;
    if (!a.submits) continue;
    submits++;
    newSeconds += a.shot.seconds;
    if (a.shot.cost === null) unpricedSeconds += a.shot.seconds;
    else newCost = addMoney(newCost, a.shot.cost, a.shot.currency);
  }
  return { counts, submits, newSeconds, newCost, unpricedSeconds };
}

/** Shots whose submission may or may not have created a task: money that may be billed. */
export interface UnknownAtRisk {
  /** One per request (a shot sharing another's body is counted with it). */
  shots: AssessedShot[];
  seconds: number;
  /** Their cost at the plan's prices; null when none of them has a price. */
  cost: number | null;
}

export function unknownAtRisk(assessed: readonly AssessedShot[]): UnknownAtRisk {
  const shots = assessed.filter((a) => a.state === 'unknown' && a.sharedWith === undefined);
  let cost: number | null = null;
  for (const a of shots) if (a.shot.cost !== null) cost = (cost ?? 0) + a.shot.cost;
  return { shots, seconds: shots.reduce((n, a) => n + a.shot.seconds, 0), cost };
}

/** `--fail-on unknown` (run, status): whether unknown shots make the exit code 1. */
export function failOnUnknown(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value.trim() === 'unknown') return true;
  throw new UsageError(`${optionText('failOn')} ${value} is not a condition shotlist knows`, {
    kind: 'fail_on_unknown',
  });
}
