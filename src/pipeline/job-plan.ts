/** `shotlist plan` as a function: the job's plan, and the run's view of it where they can differ. */
import { localAssets } from '../assets/local.js';
import { ShotlistError } from '../errors.js';
import { loadManifest } from '../manifest/load.js';
import type { ShotOverrides } from '../manifest/resolve.js';
import { shotLabel, takeKey } from '../manifest/identity.js';
import { plan as makePlan } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { SIMULATOR_BASE } from './base.js';
import { folderLookupBase, jobOutDir, namesBase } from './job.js';
import { extraTakesFrom, manifestPicks, picksOfPlan, type StalePick } from './picks.js';
import { prepareRun } from './prepare.js';
import { shardPlan, type ShardSpec } from './shard.js';
import type { PreparedRun, RunOptions } from './types.js';

/** What `plan` is asked: the run's scope and the API/folder a run with the same options uses. */
export interface PlanJobOptions extends Pick<
  RunOptions,
  'cwd' | 'env' | 'out' | 'baseUrl' | 'accounts' | 'simulate' | 'allowOutside'
> {
  variant?: string;
  only?: string[];
  overrides?: ShotOverrides;
  budget?: { max_cost: number };
  shard?: ShardSpec;
  /** The plan is saved for `run --plan`: the run's view is required, for the run's own API. */
  save?: boolean;
  /** Each take's journal key is wanted (the run's view, when the run can prepare). */
  keys?: boolean;
}

/** The job's plan for a scope, with the verdict and the keys a run with the same options has. */
export interface JobPlan {
  /** The whole manifest's plan (shards and scope as the manifest's budget sees them). */
  whole: Plan;
  /** The plan of the scope (the shard's shots), with the run's budget verdict when it differs. */
  result: Plan;
  /** The run's view (journal read, nothing sent), when it was needed and could be prepared. */
  prepared: PreparedRun | undefined;
  /** Each take's journal key, by {@link takeKey} (only with the run's view). */
  keys: Map<string, string> | undefined;
  /** Picks that no longer name a take of the plan. */
  stale: StalePick[];
  /** Said to the user: what could not be checked, and why. */
  notes: string[];
}

/** Whether the run's budget verdict can differ from the plan's: when saved, or total limits. */
function verdictOfRun(options: PlanJobOptions, whole: Plan): boolean {
  const totals = whole.budget.max_total_cost != null || whole.budget.max_total_seconds != null;
  return options.save === true || totals;
}

/**
 * The options a run would act on: without an API named (and unless saved, which plans for the
 * run's own options), the folder's API, as status, cost and stitch read it.
 */
async function runOptionsOf(whole: Plan, options: PlanJobOptions): Promise<RunOptions> {
  const cwd = options.cwd ?? process.cwd();
  const base: RunOptions = {
    cwd,
    ...(options.env !== undefined ? { env: options.env } : {}),
    dryRun: true,
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    ...(options.only !== undefined ? { only: options.only } : {}),
    overrides: options.overrides ?? {},
    ...(options.budget ? { maxCost: options.budget.max_cost } : {}),
    ...(options.out !== undefined ? { out: options.out } : {}),
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    ...(options.accounts !== undefined ? { accounts: options.accounts } : {}),
    ...(options.shard !== undefined ? { shard: options.shard } : {}),
    simulate: !!options.simulate,
    allowOutside: options.allowOutside === true,
  };
  if (options.save === true || namesBase(options)) return base;
  const out = await jobOutDir(whole.manifest, { cwd, out: options.out, shard: options.shard });
  const found = await folderLookupBase({ env: options.env }, cwd, out);
  return found.base === SIMULATOR_BASE
    ? { ...base, simulate: true, out }
    : { ...base, baseUrl: found.base, out };
}

/**
 * The run's view of the plan when it can differ from the plan's verdict, or for the keys. A
 * manifest the run cannot prepare (no uploads section for its local files...) still gets its
 * plan; unless saved, the total and the keys are then left to the run (said in a note).
 */
async function runView(
  file: string,
  whole: Plan,
  options: PlanJobOptions,
  notes: string[],
): Promise<PreparedRun | undefined> {
  const verdict = verdictOfRun(options, whole);
  if (!verdict && !options.keys) return undefined;
  try {
    return await prepareRun(file, await runOptionsOf(whole, options));
  } catch (err) {
    if (options.save === true || !(err instanceof ShotlistError)) throw err;
    notes.push(
      verdict
        ? `note: budget over every run not checked against the journal (${err.message}); run checks it`
        : `note: no journal keys in the plan (${err.message})`,
    );
    return undefined;
  }
}

/**
 * Opens the job for `plan`: the manifest, its picks (a simulated run's own under `simulate`),
 * local files at the URLs the run's API reads, the whole plan and the scope's, and the run's
 * view where its verdict or keys are wanted. Reads; sends nothing.
 */
export async function planJob(file: string, options: PlanJobOptions = {}): Promise<JobPlan> {
  const cwd = options.cwd ?? process.cwd();
  const loaded = await loadManifest(file, {
    cwd,
    allowOutside: options.allowOutside === true,
  });
  const assets = await localAssets(loaded, { simulate: options.simulate === true });
  // A simulated run's picks are its own (<manifest>.simulated.picks.yaml); a plain run plans
  // the takes re-rolls added, and so does its preview.
  const picksBase = options.simulate === true ? SIMULATOR_BASE : undefined;
  const takes = extraTakesFrom(await manifestPicks(loaded.file, picksBase));
  const whole = makePlan(loaded, {
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    ...(options.only !== undefined ? { only: options.only } : {}),
    overrides: options.overrides ?? {},
    ...(options.budget ? { budget: options.budget } : {}),
    ...takes,
    assets,
  });
  const notes: string[] = [];
  const prepared = await runView(file, whole, options, notes);
  const sharded = shardPlan(whole, options.shard);
  // The verdict the run would act on: the total limits against the journal included.
  const result =
    prepared && verdictOfRun(options, whole)
      ? { ...sharded, budget: { ...sharded.budget, ...prepared.budget } }
      : sharded;
  const keys = prepared && new Map(prepared.assessed.map((a) => [takeKey(a.shot), a.key]));
  // Picks are matched against the whole manifest (a shard holds only some takes of a shot),
  // and said for the shots of the scope.
  const scoped = new Set(result.shots.map((s) => shotLabel({ ...s, take: 1 })));
  const stale = (await picksOfPlan(whole, picksBase)).stale.filter((s) => scoped.has(s.label));
  return { whole, result, prepared, keys, stale, notes };
}
