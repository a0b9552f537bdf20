/** The first half of a run: everything decided before anything is sent. */
import path from 'node:path';
import { BudgetError, EXIT_CODES, ShotlistError } from '../errors.js';
import { waitsForFrames } from './chain.js';
import { runBudget } from './budget.js';
import { foreignTasks } from './clips.js';
import { openJob } from './job.js';
import { checkRerollFlags, refuseOldTakes, rerollTakes } from './reroll.js';
import { checkSavedPlan } from './saved-plan.js';
import { outsideShard } from './shard.js';
import type { PreparedRun, RunCallbacks, RunOptions } from './types.js';

/**
 * A library caller's options the run cannot work with (a run of no tasks at once never ends).
 * The command line has refused its flags before, in its own words (src/cli/config.ts).
 */
function checkOptions(options: RunOptions): void {
  for (const name of ['maxAttempts', 'concurrency'] as const) {
    const value = options[name];
    if (value !== undefined && !(value >= 1)) {
      throw new ShotlistError(`${name} ${value} is too small`, {
        code: 'option_too_small',
        exitCode: EXIT_CODES.badInput,
        fix: 'use 1 or more',
      });
    }
  }
}

/**
 * Loads and plans the manifest (this run's shots and the whole manifest), reads the journal,
 * decides what each shot needs and checks the budget of the new spend. Sends nothing.
 */
export async function prepareRun(
  file: string,
  options: RunOptions = {},
  callbacks: Pick<RunCallbacks, 'warn'> = {},
): Promise<PreparedRun> {
  checkOptions(options);
  checkRerollFlags(options);
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const job = await openJob(file, options, callbacks.warn);
  const { loaded, plans, outDir, base, journal, pool, plan, fullPlan, assessed, summary } = job;
  const prepared: PreparedRun = {
    manifestFile: job.manifestFile,
    caches: job.caches,
    pricing: loaded.manifest.pricing,
    plan,
    fullPlan,
    outDir,
    base,
    simulated: !!options.simulate,
    journal,
    live: job.live,
    assessed,
    others: job.others,
    summary,
    budget: runBudget({
      plan,
      fullPlan,
      summary,
      entries: journal.entries,
      simulated: !!options.simulate,
      ...(options.shard ? { elsewhere: outsideShard(plans.planned, plans.sharded) } : {}),
    }),
    foreign: foreignTasks(journal.shots, base.journalBase),
    ...(options.shard ? { shard: { spec: options.shard, of: plans.planned.shots.length } } : {}),
    uploads: {
      assets: [...job.assets, ...job.frameAssets],
      config: loaded.manifest.uploads,
      target: {
        allowCommand: options.allowCommand === true,
        secretVars: pool ? pool.accounts.accounts.map((a) => a.keyEnv) : [],
      },
    },
    chain: job.chain,
    ...(options.reroll ? { rerolls: rerollTakes(plan, job.picks) } : {}),
    ...(pool ? { accounts: pool.accounts } : {}),
  };
  if (prepared.rerolls) refuseOldTakes(assessed, prepared.rerolls);
  if (options.savedPlan !== undefined) {
    await checkSavedPlan(path.resolve(cwd, options.savedPlan), prepared, prepared.pricing);
  }
  // Only what this run will send is checked: cached shots need no reference any more.
  if (!options.dryRun && options.preflight !== false && summary.submits > 0) {
    await checkReferences(prepared, { env, simulate: !!options.simulate, signal: options.signal });
  }
  return prepared;
}

/** Preflight of the references the run will send; refuses (exit 2) with every finding. */
async function checkReferences(
  prepared: PreparedRun,
  options: { env: NodeJS.ProcessEnv; simulate: boolean; signal: AbortSignal | undefined },
): Promise<void> {
  const { preflightOrRefuse } = await import('../assets/preflight.js');
  await preflightOrRefuse(
    // A frame still to cut is checked once it is (it is our own file).
    prepared.assessed.filter((a) => a.submits && !waitsForFrames(a.shot)).map((a) => a.shot),
    {
      env: options.env,
      outDir: prepared.outDir,
      loopbackOnly: options.simulate,
      // Uploaded after the confirmation: checked on disk now.
      localFiles: new Map(
        (prepared.uploads?.assets ?? []).map((a) => [
          a.url,
          { file: a.file, contentType: a.contentType, bytes: a.bytes },
        ]),
      ),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
}

/**
 * Refuses a run whose budget verdict is not ok, before anything is sent: the command line and
 * every program calling `runManifest` or `executeRun` alike, unless `overBudget: 'allow'`.
 */
export function refuseOverBudget(run: Pick<PreparedRun, 'budget'>, options: RunOptions): void {
  if (run.budget.ok || options.overBudget === 'allow') return;
  const total = run.budget.job !== undefined;
  throw new BudgetError(`over budget: ${run.budget.reason}; nothing was sent`, {
    kind: 'over_budget',
    total,
  });
}
