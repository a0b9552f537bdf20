/**
 * The `--json` event stream of `shotlist run`: one JSON object per line, each with
 * `schema`, `event` and `time`, fields in snake_case. Documented in docs/events.md and
 * described by docs/events.schema.json; a change of meaning raises {@link EVENT_SCHEMA}.
 */
import path from 'node:path';
import { ManifestError, ShotlistError, type Diagnostic } from '../errors.js';
import type { PreparedRun, RunResult } from '../pipeline/types.js';
import type { RenderEvent } from '../render/events.js';
import { JOURNAL_FILE } from '../render/journal.js';

/** The version of the event stream; every event carries it as `schema`. */
const EVENT_SCHEMA = 1;

/** One planned take, as events name it. */
export interface ShotRef {
  id: string;
  variant: string | null;
  take: number;
}

/** One NDJSON line: `{ schema, event, time, ...fields }`. */
export function eventLine(event: string, fields: object, at: number = Date.now()): string {
  return `${JSON.stringify({ schema: EVENT_SCHEMA, event, time: new Date(at).toISOString(), ...fields })}\n`;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A render event's fields for machines: the shot as `id`/`variant`/`take` (not the combined
 * label), every field in snake_case, and a field without a value as `null` (never absent).
 */
export function renderEventFields(
  e: RenderEvent,
  shot: ShotRef | undefined,
): Record<string, unknown> {
  const { type: _type, at: _at, shot: label, key, ...rest } = e;
  const fields: Record<string, unknown> = {
    id: shot?.id ?? (label || null),
    variant: shot?.variant ?? null,
    take: shot?.take ?? null,
    key: key || null,
  };
  for (const [name, value] of Object.entries(rest)) fields[snake(name)] = value ?? null;
  return fields;
}

/** `account`: an account of the pool retired for the run (about no shot). */
export function accountEventFields(e: Extract<RenderEvent, { type: 'account' }>) {
  return {
    account: e.account,
    base_url: e.baseUrl,
    state: e.state,
    reason: e.reason,
    message: e.message,
    left: e.left,
  };
}

/** `plan`: what the run will do, before it asks or sends anything. */
export function planEventFields(run: PreparedRun, journalExists: boolean) {
  const s = run.summary;
  return {
    manifest: run.manifestFile,
    name: run.plan.manifest.name,
    out: run.outDir,
    base_url: run.base.journalBase,
    simulated: run.simulated,
    shots: run.assessed.length,
    counts: s.counts,
    submits: s.submits,
    new_seconds: s.newSeconds,
    new_cost: s.newCost,
    unpriced_seconds: s.unpricedSeconds,
    currency: run.plan.totals.currency,
    budget: {
      ok: run.budget.ok,
      reason: run.budget.reason,
      max_cost: run.budget.max_cost,
      max_seconds: run.budget.max_seconds,
    },
    journal: { file: path.join(run.outDir, JOURNAL_FILE), exists: journalExists },
  };
}

/** `stitch`: one per output the run touched: made, skipped (a shot has no clip) or failed. */
export function stitchEventFields(result: RunResult, outDir: string) {
  const stitch = result.stitch;
  if (!stitch) return [];
  return [
    ...stitch.outputs.map((o) => ({
      variant: o.variant,
      status: 'done' as const,
      file: path.join(outDir, o.file),
      duration: o.duration,
      path: o.path,
      message: null,
    })),
    ...stitch.skipped.map((s) => ({
      variant: s.variant,
      status: 'skipped' as const,
      file: null,
      duration: null,
      path: null,
      message: s.reason,
    })),
    ...stitch.failed.map((f) => ({
      variant: f.variant,
      status: 'failed' as const,
      file: null,
      duration: null,
      path: null,
      message: f.fix ? `${f.message} (fix: ${f.fix})` : f.message,
    })),
  ];
}

const zero = { seconds: 0, cost: null };

/** The money of a run: billed (completed tasks), failed (not billed), at risk (may be). */
function spendOf(result: RunResult) {
  const currency = result.prepared.plan.totals.currency;
  const spend = result.report?.totals.spend;
  if (spend)
    return {
      currency,
      billed: spend.billed,
      failed: spend.failed,
      at_risk: spend.at_risk,
      ...(spend.followed ? { followed: spend.followed } : {}),
    };
  const spent = result.render?.spent;
  if (!spent) return { currency, billed: zero, failed: zero, at_risk: zero };
  return {
    currency,
    billed: { seconds: spent.seconds, cost: spent.cost },
    failed: spent.failed,
    at_risk: spent.atRisk,
  };
}

/**
 * `summary`: the last event of a run that got past its checks (rendered, dry run or declined):
 * the exit code, the shots, the money, the outputs on disk and the report.
 */
export function summaryEventFields(result: RunResult) {
  const { prepared, report, render, reportFiles } = result;
  const t = report?.totals;
  return {
    status: result.status,
    exit_code: result.exitCode,
    simulated: prepared.simulated,
    out: prepared.outDir,
    totals: {
      shots: t?.shots ?? prepared.assessed.length,
      done: t?.done ?? 0,
      failed: t?.failed ?? 0,
      unknown: t?.unknown ?? 0,
      pending: t?.pending ?? 0,
      not_sent: t?.not_sent ?? 0,
    },
    spend: spendOf(result),
    job_spend: report?.totals.job_spend ?? null,
    outputs: (report?.outputs ?? []).map((o) => ({
      variant: o.variant,
      file: path.join(prepared.outDir, o.file),
      duration: o.duration,
    })),
    failures: (report?.shots ?? [])
      .filter((s) => s.status === 'failed' || s.status === 'unknown')
      .map((s) => ({
        id: s.id,
        variant: s.variant,
        take: s.take,
        status: s.status,
        code: s.error?.code ?? null,
        message: s.error?.message ?? null,
      })),
    requests: render?.requests ?? null,
    interrupted: render?.interrupted ?? false,
    report: reportFiles?.json ?? null,
    error: result.fatal
      ? { code: 'api_refused', message: result.fatal.message, fix: result.fatal.fix ?? null }
      : null,
  };
}

function diagnosticFields(d: Diagnostic) {
  return {
    severity: d.severity,
    file: d.file,
    line: d.line,
    col: d.col,
    path: d.path,
    message: d.message,
    fix: d.fix ?? null,
  };
}

/**
 * `error`: the last event when a command stops before or outside its own summary (bad
 * manifest, usage, over budget, refused confirmation, an unexpected failure).
 */
export function errorEventFields(error: unknown, exitCode: number) {
  const known = error instanceof ShotlistError;
  const e = error as NodeJS.ErrnoException | undefined;
  return {
    exit_code: exitCode,
    code: known ? error.code : (e?.code ?? 'internal'),
    message: e?.message ?? String(error),
    fix: known ? (error.fix ?? null) : null,
    diagnostics: error instanceof ManifestError ? error.diagnostics.map(diagnosticFields) : [],
  };
}
