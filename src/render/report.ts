import { roundMoney } from '../plan/money.js';
import { shotLabel } from '../plan/label.js';
import type { Plan } from '../plan/types.js';
import { billedCheck, billedWarning } from '../report/billed.js';
import type { Money } from './cost.js';
import type {
  CastSheetEntry,
  MoneyTotal,
  OutputReport,
  RunReport,
  ShotReport,
  SpendTotals,
} from '../report/types.js';
import type { RenderResult } from './render.js';
import { storePath } from './store.js';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export interface ReportContext {
  /** The API base URL the run talked to (never the key). */
  baseUrl: string;
  simulated: boolean;
  outputs?: OutputReport[];
  warnings?: string[];
  now?: () => number;
}

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

/**
 * The spend part of the run summary: what completed tasks bill, then failed tasks apart (not
 * billed) and tasks that may have been billed.
 */
export function describeCharges(spend: SpendTotals | undefined): string {
  if (!spend) return '';
  const parts = [`${spend.billed.seconds} s billed`];
  if (spend.failed.seconds > 0) parts.push(`${spend.failed.seconds} s failed, not billed`);
  if (spend.at_risk.seconds > 0) parts.push(`${spend.at_risk.seconds} s may have been billed`);
  return `(${parts.join(', ')})`;
}

/** Turns a render result into `report.json`: per shot its task, status, timings and file; totals previewed vs submitted. */
export function toRunReport(plan: Plan, result: RenderResult, context: ReportContext): RunReport {
  const shots: ShotReport[] = result.shots.map((r) => ({
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
  }));
  const count = (status: ShotReport['status']) => shots.filter((s) => s.status === status).length;
  const currency = plan.totals.currency;
  const billed = billedCheck(
    result.shots.flatMap((r) =>
      r.reportedSeconds !== undefined && r.shot.shared_with === undefined
        ? [{ shot: r.label, previewed: r.shot.seconds, reported: r.reportedSeconds }]
        : [],
    ),
  );
  const warnings = [...(context.warnings ?? []), billedWarning(billed) ?? []].flat();
  return {
    version: 1,
    name: plan.manifest.name,
    manifest: plan.manifest.file,
    generated_at: new Date((context.now ?? Date.now)()).toISOString(),
    base_url: context.baseUrl,
    simulated: context.simulated,
    shots,
    outputs: context.outputs ?? [],
    ...(plan.cast ? { cast: castSheet(plan) } : {}),
    totals: {
      shots: shots.length,
      done: count('done'),
      failed: count('failed'),
      unknown: count('unknown'),
      pending: count('pending'),
      not_sent: count('skipped'),
      ...(result.spent.followed ? { followed: result.shots.filter((s) => s.followed).length } : {}),
      previewed_seconds: plan.totals.seconds,
      submitted_seconds:
        result.spent.seconds + result.spent.failed.seconds + result.spent.atRisk.seconds,
      previewed_cost: exact(plan.totals.cost, currency),
      spent_cost: exact(result.spent.cost, currency),
      currency,
      spend: {
        ...spendTotals(
          { billed: result.spent, failed: result.spent.failed, atRisk: result.spent.atRisk },
          currency,
        ),
        ...(result.spent.followed
          ? {
              followed: {
                seconds: result.spent.followed.seconds,
                cost: exact(result.spent.followed.cost, currency),
              },
            }
          : {}),
      },
      job_spend: { ...spendTotals(result.ledger, currency), tasks: result.ledger.tasks },
      ...(billed ? { billed_check: billed } : {}),
    },
    ...(warnings.length > 0 ? { warnings } : {}),
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
