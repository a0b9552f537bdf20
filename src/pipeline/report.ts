/**
 * The run report always describes the whole manifest: this run's results, and for every
 * other shot what the journal knows about it.
 */
import { takeKey } from '../media/outputs.js';
import type { Plan } from '../plan/types.js';
import type { RenderResult, ShotOutcome, ShotResult } from '../render/render.js';
import { toRunReport } from '../render/report.js';
import { startResult } from '../render/result.js';
import type { AssessedShot, ShotState } from '../render/state.js';
import type { OutputReport, RunReport } from '../report/types.js';

/** How a shot this run did not touch stands, by its state in the journal. */
const OUTCOME: Record<ShotState, ShotOutcome> = {
  cached: 'done',
  in_flight: 'pending',
  download: 'pending',
  unknown: 'unknown',
  retry: 'failed',
  gave_up: 'failed',
  new: 'skipped',
  forced: 'skipped',
};

/** A shot outside this run, as the journal left it: nothing submitted, nothing spent. */
export function journalResult(a: AssessedShot): ShotResult {
  const j = a.journal;
  const status = OUTCOME[a.state];
  return {
    ...startResult(a, status),
    cached: status === 'done',
    ...(j?.taskId !== undefined ? { taskId: j.taskId } : {}),
    ...(status === 'done' && j?.file ? { file: j.file } : {}),
    ...(j?.error && status !== 'done'
      ? { error: { code: j.error.code ?? 'error', message: j.error.message } }
      : {}),
    ...(j?.submittedAt !== undefined ? { submittedAt: j.submittedAt } : {}),
    ...(j?.completedAt !== undefined ? { completedAt: j.completedAt } : {}),
    ...(j?.reportedSeconds !== undefined ? { reportedSeconds: j.reportedSeconds } : {}),
    ...(j?.downloadedAt !== undefined && status === 'done' ? { downloadedAt: j.downloadedAt } : {}),
  };
}

/**
 * The report of a run over the whole manifest: every shot of `fullPlan` in its order, this
 * run's result where it has one, else the journal's (`others`). Spend is this run's.
 */
export function wholeManifestReport(
  fullPlan: Plan,
  result: RenderResult,
  others: readonly AssessedShot[],
  context: { baseUrl: string; simulated: boolean; outputs: OutputReport[] },
): RunReport {
  const mine = new Map(result.shots.map((s) => [takeKey(s.shot), s]));
  const theirs = new Map(others.map((a) => [takeKey(a.shot), a]));
  const shots = fullPlan.shots.flatMap((shot): ShotResult[] => {
    const own = mine.get(takeKey(shot));
    if (own) return [own];
    const other = theirs.get(takeKey(shot));
    return other ? [journalResult(other)] : [];
  });
  const report = toRunReport(fullPlan, { ...result, shots }, context);
  return result.accounts ? { ...report, accounts: result.accounts } : report;
}
