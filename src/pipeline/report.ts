/**
 * The one assembler of `report.json`: it always describes the whole manifest, from the job's
 * assessment of every shot, this run's results where a run rendered, the picks the finals were
 * stitched from, the finals moved aside and the finals made. `run` and `stitch` both use it.
 */
import { roundMoney } from '../plan/money.js';
import { shotLabel, takeKey } from '../manifest/identity.js';
import type { Plan } from '../plan/types.js';
import { billedCheck, billedWarning } from '../report/billed.js';
import { costLedger, pricesOf, type Money } from '../render/cost.js';
import type { JournalEntry } from '../render/journal.js';
import type { RenderResult, ShotOutcome, ShotResult } from '../render/render.js';
import { startResult } from '../render/result.js';
import type { AssessedShot, ShotState } from '../render/state.js';
import { clipVersions, storePath, versionsOf } from '../render/store.js';
import type {
  CastSheetEntry,
  MoneyTotal,
  OutputReport,
  RunReport,
  ShotReport,
  SpendTotals,
} from '../report/types.js';
import type { AppliedPicks } from './picks.js';
import type { StaleFinal } from './types.js';

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

/** What the report is made of. */
export interface ReportSources {
  /** Every shot of the manifest, in its order (chained shots with the frames they start from). */
  plan: Plan;
  /** The job's view of the shots: where this run has no result, each shot stands as assessed. */
  assessed: readonly AssessedShot[];
  /** This run's results and spend, when the command rendered. */
  render?: RenderResult | undefined;
  /** The folder's journal: every clip each shot has had, and (without `render`) the job's bill. */
  entries: readonly JournalEntry[];
  /** Without `render`: the report of the last run, whose spend the report keeps. */
  earlier?: RunReport | undefined;
  /** The picks the finals were stitched from: their takes are marked `picked`. */
  picks?: Pick<AppliedPicks, 'applied'> | undefined;
  /** Finals moved aside because they could not be made again. */
  stale?: readonly StaleFinal[];
  outputs: OutputReport[];
  warnings?: readonly string[];
  /** The API base URL of the job (never the key). */
  baseUrl: string;
  simulated: boolean;
  now?: () => number;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** An amount as the report holds it: rounded to the currency, as every figure shown. */
const exact = (cost: number | null, currency: string | null) =>
  cost === null ? null : roundMoney(cost, currency);

function spendTotals(
  m: { billed: Money; failed: Money; atRisk: Money },
  currency: string | null,
): SpendTotals {
  const money = (x: Money): MoneyTotal => ({ seconds: x.seconds, cost: exact(x.cost, currency) });
  return { billed: money(m.billed), failed: money(m.failed), at_risk: money(m.atRisk) };
}

/** Each shot of the plan in order: this run's result where it has one, else the assessment's. */
function shotResults(sources: ReportSources): ShotResult[] {
  const mine = new Map((sources.render?.shots ?? []).map((s) => [takeKey(s.shot), s]));
  const theirs = new Map(sources.assessed.map((a) => [takeKey(a.shot), a]));
  const versions = clipVersions(sources.entries, new Set(sources.assessed.map((a) => a.key)));
  return sources.plan.shots.flatMap((shot): ShotResult[] => {
    const own = mine.get(takeKey(shot));
    if (own) return [own];
    const other = theirs.get(takeKey(shot));
    return other ? [{ ...journalResult(other), versions: versionsOf(versions, shot) }] : [];
  });
}

/** One shot's row; `picked` when the finals were stitched from this take. */
function shotReport(r: ShotResult, picked: boolean): ShotReport {
  return {
    key: r.key,
    id: r.shot.id,
    variant: r.shot.variant,
    take: r.shot.take,
    mode: r.shot.mode,
    model: r.shot.model,
    size: r.shot.size,
    ratio: r.shot.ratio,
    prompt: r.shot.prompt,
    seconds: r.shot.seconds,
    unit_price: r.shot.unit_price,
    cost: exact(r.shot.cost, r.shot.currency),
    currency: r.shot.currency,
    status: r.status,
    cached: r.cached,
    task_id: r.taskId ?? null,
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
    timings: {
      submitted_at: iso(r.submittedAt),
      completed_at: iso(r.completedAt),
      downloaded_at: iso(r.downloadedAt),
    },
    file: r.file?.path ?? null,
    bytes: r.file?.bytes ?? null,
    sha256: r.file?.sha256 ?? null,
    ...(r.reportedSeconds !== undefined ? { reported_seconds: r.reportedSeconds } : {}),
    ...(r.shot.shared_with !== undefined ? { shared_with: r.shot.shared_with } : {}),
    ...(r.shot.depends_on !== undefined ? { depends_on: r.shot.depends_on } : {}),
    versions: (r.versions ?? []).map((v) => ({
      sha256: v.sha256,
      bytes: v.bytes,
      downloaded_at: new Date(v.at).toISOString(),
      current: v.current,
      file: storePath(v.sha256),
    })),
    ...(picked ? { picked: true as const } : {}),
  };
}

interface RunSpend {
  followed?: number;
  submitted_seconds: number;
  spent_cost: number | null;
  spend: SpendTotals;
  job_spend: SpendTotals & { tasks: number };
}

/** What this run's tasks bill; without a render, the last run's figures (a stitch spends nothing). */
function runSpend(sources: ReportSources, currency: string | null): RunSpend {
  const { render } = sources;
  const ledger = render?.ledger ?? costLedger(sources.entries, pricesOf(sources.plan.shots));
  const job_spend = { ...spendTotals(ledger, currency), tasks: ledger.tasks };
  if (!render) {
    const t = sources.earlier?.totals;
    const none = { seconds: 0, cost: currency === null ? null : 0 };
    return {
      ...(t?.followed !== undefined ? { followed: t.followed } : {}),
      submitted_seconds: t?.submitted_seconds ?? 0,
      spent_cost: t ? t.spent_cost : exact(0, currency),
      spend: t?.spend ?? { billed: none, failed: none, at_risk: none },
      job_spend,
    };
  }
  const { spent } = render;
  return {
    ...(spent.followed ? { followed: render.shots.filter((s) => s.followed).length } : {}),
    submitted_seconds: spent.seconds + spent.failed.seconds + spent.atRisk.seconds,
    spent_cost: exact(spent.cost, currency),
    spend: {
      ...spendTotals({ billed: spent, failed: spent.failed, atRisk: spent.atRisk }, currency),
      ...(spent.followed
        ? {
            followed: {
              seconds: spent.followed.seconds,
              cost: exact(spent.followed.cost, currency),
            },
          }
        : {}),
    },
    job_spend,
  };
}

/** The report's words for finals moved aside. */
function staleNotes(stale: readonly StaleFinal[]): string[] {
  return stale.map(
    (s) =>
      `${s.file} was not made again (a shot has no clip): the earlier one is now ${s.moved_to}`,
  );
}

/**
 * `report.json` of the job: every shot of the plan with its task, status, timings, file, clip
 * versions and pick; totals previewed against submitted; the finals; warnings. Pure.
 */
export function assembleReport(sources: ReportSources): RunReport {
  const { plan } = sources;
  const results = shotResults(sources);
  const chosen = new Map((sources.picks?.applied ?? []).map((a) => [a.label, a.take] as const));
  const shots = results.map((r) =>
    shotReport(r, chosen.get(shotLabel({ ...r.shot, take: 1 })) === r.shot.take),
  );
  const count = (status: ShotReport['status']) => shots.filter((s) => s.status === status).length;
  const currency = plan.totals.currency;
  const billed = billedCheck(
    results.flatMap((r) =>
      r.reportedSeconds !== undefined && r.shot.shared_with === undefined
        ? [{ shot: r.label, previewed: r.shot.seconds, reported: r.reportedSeconds }]
        : [],
    ),
  );
  const billedNote = billedWarning(billed);
  const warnings = [
    ...(sources.warnings ?? []),
    ...(billedNote === undefined ? [] : [billedNote]),
    ...staleNotes(sources.stale ?? []),
  ];
  const { followed, ...spend } = runSpend(sources, currency);
  const accounts = sources.render ? sources.render.accounts : sources.earlier?.accounts;
  return {
    version: 1,
    name: plan.manifest.name,
    manifest: plan.manifest.file,
    generated_at: new Date((sources.now ?? Date.now)()).toISOString(),
    base_url: sources.baseUrl,
    simulated: sources.simulated,
    shots,
    outputs: sources.outputs,
    ...(plan.cast ? { cast: castSheet(plan) } : {}),
    totals: {
      shots: shots.length,
      done: count('done'),
      failed: count('failed'),
      unknown: count('unknown'),
      pending: count('pending'),
      not_sent: count('skipped'),
      ...(followed !== undefined ? { followed } : {}),
      previewed_seconds: plan.totals.seconds,
      submitted_seconds: spend.submitted_seconds,
      previewed_cost: exact(plan.totals.cost, currency),
      spent_cost: spend.spent_cost,
      currency,
      spend: spend.spend,
      job_spend: spend.job_spend,
      ...(billed ? { billed_check: billed } : {}),
    },
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(accounts ? { accounts } : {}),
  };
}

/** Each cast member with its images and the shots (one per variant) that mention it. */
function castSheet(plan: Pick<Plan, 'cast' | 'shots'>): CastSheetEntry[] {
  return Object.entries(plan.cast ?? {}).map(([name, member]) => ({
    name,
    ...(member.description !== undefined ? { description: member.description } : {}),
    images: [...member.images],
    shots: plan.shots
      .filter((s) => s.take === 1 && s.cast?.includes(name))
      .map((s) => shotLabel(s, false)),
  }));
}

/** `report.json` of a render alone: the shots of `result`, in its order (library use). */
export function toRunReport(
  plan: Plan,
  result: RenderResult,
  context: { baseUrl: string; simulated: boolean; outputs?: OutputReport[]; now?: () => number },
): RunReport {
  return assembleReport({
    plan: { ...plan, shots: result.shots.map((s) => s.shot) },
    assessed: [],
    render: result,
    entries: [],
    outputs: context.outputs ?? [],
    baseUrl: context.baseUrl,
    simulated: context.simulated,
    ...(context.now ? { now: context.now } : {}),
  });
}
