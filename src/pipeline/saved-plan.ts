/**
 * Saved plans (as `terraform plan -out` / `apply planfile`): `plan --save` writes what a run
 * would send, the hashes of the manifest and its prices and the journal state it assumed;
 * `run --plan` sends exactly that, or refuses, sending nothing, when anything drifted since.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson, type VideoRequest } from '../api/contract.js';
import { stripControls } from '../api/redact.js';
import { UsageError, optionText } from '../errors.js';
import type { ShotlistManifest } from '../manifest/types.gen.js';
import type { BudgetVerdict } from '../plan/types.js';
import type { PreparedRun } from './types.js';

export interface SavedShot {
  label: string;
  /** The journal key: a hash of the body, the take and the API base. */
  key: string;
  /** What the run was to do with it when the plan was saved (`new`, `cached`, `in_flight`...). */
  state: string;
  submits: boolean;
  cost: number | null;
  request: VideoRequest;
}

/**
 * The saved plan file. `manifest.file` and `out` are relative to the manifest's folder, so a
 * checkout of the same files elsewhere (another CI runner) applies the same plan; plans saved
 * before held absolute paths, which are still compared as they are.
 */
export interface SavedPlan {
  shotlist_saved_plan: 1;
  manifest: { file: string; sha256: string };
  pricing_sha256: string;
  out: string;
  /** `i/n` when saved with `--shard`: the run must render the same shard. */
  shard?: string;
  base: string;
  simulated: boolean;
  budget: BudgetVerdict;
  totals: { submits: number; seconds: number; cost: number | null; currency: string | null };
  shots: SavedShot[];
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

function pricingHash(pricing: ShotlistManifest['pricing']): string {
  return sha256(canonicalJson(pricing ?? null));
}

/** What `run` assumed, as `plan --save` writes it. */
export async function savePlan(
  run: PreparedRun,
  pricing: ShotlistManifest['pricing'],
): Promise<SavedPlan> {
  const home = path.dirname(run.manifestFile);
  return {
    shotlist_saved_plan: 1,
    manifest: {
      file: path.relative(home, run.manifestFile),
      sha256: sha256(await readFile(run.manifestFile)),
    },
    pricing_sha256: pricingHash(pricing),
    out: path.relative(home, run.outDir) || '.',
    ...(run.shard ? { shard: shardText(run.shard.spec) } : {}),
    base: run.base.journalBase,
    simulated: run.simulated,
    budget: run.budget,
    totals: {
      submits: run.summary.submits,
      seconds: run.summary.newSeconds,
      cost: run.summary.newCost,
      currency: run.plan.totals.currency,
    },
    shots: run.assessed.map((a) => ({
      label: a.label,
      key: a.key,
      state: a.state,
      submits: a.submits,
      cost: a.cost,
      request: a.shot.request,
    })),
  };
}

/** Reads a saved plan, or says why the file is not one. */
async function readSavedPlan(file: string): Promise<SavedPlan> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(
      `${optionText('plan')} ${file}: cannot read it (${(err as Error).message})`,
      { kind: 'save_plan' },
    );
  }
  const plan = data as Partial<SavedPlan> | null;
  if (
    plan?.shotlist_saved_plan !== 1 ||
    !Array.isArray(plan.shots) ||
    typeof plan.totals !== 'object' ||
    typeof plan.manifest !== 'object' ||
    plan.totals === null ||
    plan.manifest === null
  ) {
    throw new UsageError(`${optionText('plan')} ${file} is not a saved plan`, {
      kind: 'save_plan',
    });
  }
  return data as SavedPlan;
}

/** The top-level fields of two bodies whose values differ, for the message. */
function bodyFields(saved: unknown, now: VideoRequest): string {
  const a = (typeof saved === 'object' && saved !== null ? saved : {}) as Record<string, unknown>;
  const b = now as unknown as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null),
  );
  return fields.length > 0 ? fields.map((k) => JSON.stringify(k)).join(', ') : 'its fields';
}

const shown = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/**
 * What the approver read and the run would not send: a body (compared as canonical JSON, so
 * only a change of value counts) or a cost that is not the run's. The bodies compared are the
 * planned ones; what is added at send time (a `--listen` webhook URL, the simulator's asset
 * origin) is added after this check, to the run's body, never to the saved one.
 */
function shotDrift(saved: SavedShot, now: PreparedRun['assessed'][number]): string[] {
  const drift: string[] = [];
  if (canonicalJson(saved.request) !== canonicalJson(now.shot.request))
    drift.push(
      `${now.label}: the plan shows a request body the run would not send (${bodyFields(saved.request, now.shot.request)} differ)`,
    );
  if (saved.cost !== now.cost)
    drift.push(
      `${now.label}: the plan shows cost ${shown(saved.cost)}, the run's is ${shown(now.cost)}`,
    );
  return drift;
}

/** The saved totals that are not the run's. */
function totalsDrift(saved: SavedPlan['totals'], run: PreparedRun): string[] {
  const now: SavedPlan['totals'] = {
    submits: run.summary.submits,
    seconds: run.summary.newSeconds,
    cost: run.summary.newCost,
    currency: run.plan.totals.currency,
  };
  return (Object.keys(now) as (keyof SavedPlan['totals'])[])
    .filter((k) => saved[k] !== now[k])
    .map((k) => `the plan's total ${k} is ${shown(saved[k])}, the run's is ${shown(now[k])}`);
}

const shardText = (spec: { index: number; count: number }) => `${spec.index}/${spec.count}`;

/**
 * A saved path as the run's: relative ones (this version) against the manifest's folder,
 * absolute ones (older plans) as they are.
 */
function savedPath(saved: unknown, home: string): string {
  const text = String(saved);
  return path.isAbsolute(text) ? text : path.resolve(home, text);
}

/** Where the plan was made (manifest, prices, folder, API, shard) against the run's. */
async function placeDrift(
  saved: SavedPlan,
  run: PreparedRun,
  pricing: ShotlistManifest['pricing'],
): Promise<string[]> {
  const drift: string[] = [];
  const home = path.dirname(run.manifestFile);
  if (savedPath(saved.manifest.file, home) !== run.manifestFile)
    drift.push(
      `the plan is of ${stripControls(String(saved.manifest.file))}, not ${run.manifestFile}`,
    );
  else if (saved.manifest.sha256 !== sha256(await readFile(run.manifestFile)))
    drift.push('the manifest was edited');
  if (saved.pricing_sha256 !== pricingHash(pricing)) drift.push('the prices changed');
  if (savedPath(saved.out, home) !== run.outDir)
    drift.push(`the output folder is ${run.outDir}, not ${stripControls(String(saved.out))}`);
  if (saved.base !== run.base.journalBase)
    drift.push(`the API is ${run.base.journalBase}, not ${stripControls(String(saved.base))}`);
  const shard = run.shard ? shardText(run.shard.spec) : undefined;
  if ((saved.shard ?? undefined) !== shard)
    drift.push(
      `the plan is of ${saved.shard ? `shard ${stripControls(String(saved.shard))}` : 'the whole manifest'}, the run of ${shard ? `shard ${shard}` : 'the whole manifest'}`,
    );
  return drift;
}

/**
 * Whether a shot moved on by applying this very plan: it was to be sent and now is not (done,
 * in flight, or sent with its outcome unknown). That is progress, not drift: a run of the plan
 * that stopped midway resumes with the same plan, and an applied plan sends nothing.
 */
const progressed = (saved: SavedShot, now: PreparedRun['assessed'][number]) =>
  saved.submits &&
  !now.submits &&
  ['cached', 'in_flight', 'download', 'unknown'].includes(now.state);

/** After progress: the run sends a part of what the plan shows, never more. */
function remainderDrift(saved: SavedPlan['totals'], run: PreparedRun): string[] {
  const more = (a: number | null, b: number | null) => (a ?? 0) > (b ?? 0);
  const drift: string[] = [];
  if (run.plan.totals.currency !== saved.currency)
    drift.push(
      `the plan's currency is ${shown(saved.currency)}, the run's ${shown(run.plan.totals.currency)}`,
    );
  if (
    run.summary.submits > saved.submits ||
    run.summary.newSeconds > saved.seconds ||
    more(run.summary.newCost, saved.cost)
  )
    drift.push(`the run would send more than the plan's totals`);
  return drift;
}

/** Everything that differs between a saved plan and the run about to start. */
async function planDrift(
  saved: SavedPlan,
  run: PreparedRun,
  pricing: ShotlistManifest['pricing'],
): Promise<string[]> {
  const drift = await placeDrift(saved, run, pricing);
  const now = new Map(run.assessed.map((a) => [a.key, a]));
  let moved = false;
  const listed = new Set<string>();
  for (const s of saved.shots) {
    const a = now.get(s.key);
    const label = stripControls(String(s.label));
    if (listed.has(s.key)) drift.push(`${label}: the plan lists its request twice`);
    listed.add(s.key);
    if (!a) drift.push(`${label}: its request is no longer in the run`);
    else if (label !== a.label) drift.push(`${a.label}: the plan shows its request as ${label}`);
    else if (progressed(s, a)) moved = true;
    else if (a.state !== s.state)
      drift.push(`${a.label}: was ${stripControls(String(s.state))}, now ${a.state}`);
    else if (a.submits !== s.submits)
      drift.push(
        `${a.label}: the plan shows it ${s.submits ? 'sent' : 'not sent'}, the run would ${a.submits ? 'send' : 'not send'} it`,
      );
    else drift.push(...shotDrift(s, a));
  }
  drift.push(...(moved ? remainderDrift(saved.totals, run) : totalsDrift(saved.totals, run)));
  const before = new Set(saved.shots.map((s) => s.key));
  for (const a of run.assessed)
    if (!before.has(a.key)) drift.push(`${a.label}: a request the plan does not have`);
  return drift;
}

/** Refuses a run that is not the saved plan, before anything is sent. */
export async function checkSavedPlan(
  file: string,
  run: PreparedRun,
  pricing: ShotlistManifest['pricing'],
): Promise<void> {
  const drift = await planDrift(await readSavedPlan(file), run, pricing);
  if (drift.length === 0) return;
  const shown = drift.slice(0, 10).join('; ');
  throw new UsageError(
    `the run drifted from the saved plan ${file}: ${shown}${drift.length > 10 ? `; and ${drift.length - 10} more` : ''}; nothing was sent`,
    { kind: 'save_plan_again' },
  );
}
