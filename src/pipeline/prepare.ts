/** The first half of a run: everything decided before anything is sent. */
import path from 'node:path';
import { BudgetError, UsageError, formatDiagnostic } from '../errors.js';
import { assetLocation, localAssets, type LocalAsset } from '../assets/local.js';
import { refuseUnallowedCommand } from '../assets/open.js';
import { chainContext, resolveReadyFrames, waitsForFrames } from './chain.js';
import { loadManifest } from '../manifest/load.js';
import { takeKey } from '../media/outputs.js';
import { plan as makePlan } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import type { LoadedManifest } from '../manifest/load.js';
import { JOURNAL_FILE, readJournal } from '../render/journal.js';
import { assessShots, summarizeAssessment } from '../render/state.js';
import { accountsFileOf, checkPoolFlags, loadAccounts, poolBase } from './accounts.js';
import { chooseBase } from './base.js';
import { runBudget } from './budget.js';
import { foreignTasks } from './clips.js';
import { checkFolderApi, outDirOf } from './folder-api.js';
import { extraTakesFrom, manifestPicks } from './picks.js';
import { planOptionsOf } from './plan-options.js';
import { checkRerollFlags, marksIn, refuseOldTakes, rerollTakes } from './reroll.js';
import { checkSavedPlan } from './saved-plan.js';
import { outsideShard, shardPlan } from './shard.js';
import type { PreparedRun, RunCallbacks, RunOptions } from './types.js';

function checkFlags(options: RunOptions): void {
  if (options.maxAttempts !== undefined && options.maxAttempts < 1) {
    throw new UsageError(`--max-attempts ${options.maxAttempts} is too small`, 'use 1 or more');
  }
  if (options.concurrency !== undefined && options.concurrency < 1) {
    throw new UsageError(`--concurrency ${options.concurrency} is too small`, 'use 1 or more');
  }
  if (options.simLatency !== undefined && !options.simulate) {
    throw new UsageError(
      '--sim-latency only applies to --simulate',
      'add --simulate, or drop --sim-latency',
    );
  }
}

function checkForce(plan: Plan, force: RunOptions['force']): void {
  if (!Array.isArray(force)) return;
  const ids = new Set(plan.shots.map((s) => s.id));
  const unknownIds = force.filter((id) => !ids.has(id));
  if (unknownIds.length > 0) {
    throw new UsageError(
      `--force names ${unknownIds.join(', ')}, not in the plan`,
      `use shot ids of the manifest, or --force all`,
    );
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
  checkFlags(options);
  checkRerollFlags(options);
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const manifestFile = path.resolve(cwd, file);
  const planned = await planRun(manifestFile, options, callbacks);
  const { loaded, plans } = planned;
  const outDir = path.resolve(
    cwd,
    options.out ??
      (await outDirOf(plans.sharded.manifest, {
        simulate: options.simulate,
        shard: options.shard,
        note: callbacks.warn,
      })),
  );
  const pool = await runAccounts(options, cwd, env);
  const base = pool
    ? poolBase(pool.accounts, pool.file)
    : chooseBase({ simulate: options.simulate, baseUrl: options.baseUrl, env });
  const journal = await readJournal(path.join(outDir, JOURNAL_FILE));
  // One folder, one API: another API's folder is refused here, before anything is sent.
  await checkFolderApi(outDir, base.journalBase, journal);
  const state = await assessRun(planned, {
    options,
    outDir,
    journalBase: base.journalBase,
    journal,
    env,
  });
  const { plan, fullPlan, assessed, summary } = state;
  const prepared: PreparedRun = {
    manifestFile,
    pricing: loaded.manifest.pricing,
    plan,
    fullPlan,
    outDir,
    base,
    simulated: !!options.simulate,
    journal,
    assessed,
    others: state.others,
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
      assets: [...planned.assets, ...state.frameAssets],
      config: loaded.manifest.uploads,
      target: {
        allowCommand: options.allowCommand === true,
        secretVars: pool ? pool.accounts.accounts.map((a) => a.keyEnv) : [],
      },
    },
    chain: state.chain,
    ...(options.reroll ? { rerolls: rerollTakes(plan, planned.picks) } : {}),
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

/** The run's account pool, read and checked (keys set unless a dry run), when one is named. */
async function runAccounts(options: RunOptions, cwd: string, env: NodeJS.ProcessEnv) {
  const file = accountsFileOf(options.accounts, env);
  if (file === undefined) return undefined;
  checkPoolFlags(options);
  const accounts = await loadAccounts(file, { cwd, env, needKeys: !options.dryRun });
  return { file, accounts };
}

/** The manifest, loaded and planned: this run's shots, and the whole manifest's. */
interface PlannedRun {
  loaded: LoadedManifest;
  assets: LocalAsset[];
  picks: Awaited<ReturnType<typeof manifestPicks>>;
  /** A run of some shots (--variant, --only, --reroll) rather than the whole manifest. */
  partial: boolean;
  plans: {
    /** This run's shots, before sharding. */
    planned: Plan;
    /** This run's shots in this shard. */
    sharded: Plan;
    /** The whole manifest in this shard: what the report and finals describe. */
    shardedFull: Plan;
  };
}

async function planRun(
  manifestFile: string,
  options: RunOptions,
  callbacks: Pick<RunCallbacks, 'warn'>,
): Promise<PlannedRun> {
  const loaded = await loadManifest(manifestFile, {
    allowOutside: options.allowOutside === true,
    missingUploads: options.simulate ? 'ignore' : 'error',
  });
  // A simulated run uploads to the simulator and a dry run uploads nothing: no command runs.
  if (!options.simulate && !options.dryRun)
    refuseUnallowedCommand(loaded, options.allowCommand === true);
  const overrides = options.overrides ?? {};
  const assets = await localAssets(loaded, { simulate: options.simulate });
  const picks = await manifestPicks(loaded.file);
  const planned = makePlan(loaded, { ...planOptionsOf({ ...options, overrides }, picks), assets });
  for (const w of planned.warnings) callbacks.warn?.(formatDiagnostic(w));
  checkForce(planned, options.force);
  const partial = options.variant !== undefined || options.only !== undefined || !!options.reroll;
  // With a re-roll run's new takes: the report and finals describe them too.
  const takes = extraTakesFrom(marksIn(planned, picks), options.reroll);
  const whole = partial ? makePlan(loaded, { overrides, ...takes, assets }) : planned;
  // A shard's run, report and finals describe the shard only (see shard.ts).
  const sharded = shardPlan(planned, options.shard, whole);
  const shardedFull = partial ? shardPlan(whole, options.shard, whole) : sharded;
  return { loaded, assets, picks, partial, plans: { planned, sharded, shardedFull } };
}

/** What each shot of the run needs, from the journal and the clips on disk. */
async function assessRun(
  planned: PlannedRun,
  at: {
    options: RunOptions;
    outDir: string;
    journalBase: string;
    journal: Awaited<ReturnType<typeof readJournal>>;
    env: NodeJS.ProcessEnv;
  },
): Promise<{
  plan: Plan;
  fullPlan: Plan;
  assessed: PreparedRun['assessed'];
  others: PreparedRun['others'];
  summary: PreparedRun['summary'];
  chain: PreparedRun['chain'];
  frameAssets: LocalAsset[];
}> {
  const { options, outDir, journal } = at;
  const { loaded, partial, plans } = planned;
  const maxAttempts = options.maxAttempts ?? loaded.manifest.max_attempts;
  const assessOptions = {
    outDir,
    baseUrl: at.journalBase,
    journal: journal.shots,
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  };
  const chain = await chainContext(plans.shardedFull, {
    outDir,
    location: assetLocation(loaded.manifest.uploads, !!options.simulate),
    assess: assessOptions,
    env: at.env,
  });
  // Frames of clips already on disk are cut now: those shots are assessed with their real body.
  const ready = await resolveReadyFrames(plans.sharded, chain);
  const plan = ready.plan;
  const fullPlan = partial ? (await resolveReadyFrames(plans.shardedFull, chain)).plan : plan;
  const assessed = await assessShots(plan, {
    ...assessOptions,
    ...(options.force ? { force: options.force } : {}),
    ...(options.retryUnknown ? { retryUnknown: true } : {}),
  });
  // Only the shots outside this run: their clips are hashed once, not twice.
  const inRun = new Set(plan.shots.map(takeKey));
  const outside = fullPlan.shots.filter((s) => !inRun.has(takeKey(s)));
  // A dry run writes no report: the shots outside it are not looked at.
  const others =
    outside.length > 0 && !options.dryRun
      ? await assessShots({ shots: outside }, assessOptions)
      : [];
  const summary = summarizeAssessment(assessed);
  return { plan, fullPlan, assessed, others, summary, chain, frameAssets: ready.assets };
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
  throw new BudgetError(
    `over budget: ${run.budget.reason}; nothing was sent`,
    total
      ? 'raise budget.max_total_cost / max_total_seconds in the manifest, or render fewer shots with --only / --variant'
      : 'raise budget.max_cost in the manifest or --max-cost, or render fewer shots with --only / --variant',
  );
}
