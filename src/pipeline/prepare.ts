/** The first half of a run: everything decided before anything is sent. */
import path from 'node:path';
import { UsageError, formatDiagnostic } from '../errors.js';
import { loadManifest } from '../manifest/load.js';
import { takeKey } from '../media/outputs.js';
import { checkBudget } from '../plan/budget.js';
import { plan as makePlan } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { JOURNAL_FILE, readJournal } from '../render/journal.js';
import { assessShots, summarizeAssessment } from '../render/state.js';
import { chooseBase } from './base.js';
import { foreignTasks } from './clips.js';
import { defaultOutDir } from './out-dir.js';
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
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const manifestFile = path.resolve(cwd, file);
  const loaded = await loadManifest(manifestFile, { allowOutside: options.allowOutside === true });
  const overrides = options.overrides ?? {};
  const plan = makePlan(loaded, {
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    ...(options.only !== undefined ? { only: options.only } : {}),
    overrides,
    ...(options.maxCost !== undefined ? { budget: { max_cost: options.maxCost } } : {}),
  });
  for (const w of plan.warnings) callbacks.warn?.(formatDiagnostic(w));
  checkForce(plan, options.force);
  const partial = options.variant !== undefined || options.only !== undefined;
  const fullPlan = partial ? makePlan(loaded, { overrides }) : plan;
  const outDir = path.resolve(cwd, options.out ?? defaultOutDir(plan.manifest.name));
  const base = chooseBase({ simulate: options.simulate, baseUrl: options.baseUrl, env });

  const journal = await readJournal(path.join(outDir, JOURNAL_FILE));
  const maxAttempts = options.maxAttempts ?? loaded.manifest.max_attempts;
  const assessed = await assessShots(plan, {
    outDir,
    baseUrl: base.journalBase,
    journal: journal.shots,
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(options.force ? { force: options.force } : {}),
    ...(options.retryUnknown ? { retryUnknown: true } : {}),
  });
  // Only the shots outside this run: their clips are hashed once, not twice.
  const inRun = new Set(plan.shots.map(takeKey));
  const outside = fullPlan.shots.filter((s) => !inRun.has(takeKey(s)));
  // A dry run writes no report: the shots outside it are not looked at.
  const others =
    outside.length > 0 && !options.dryRun
      ? await assessShots(
          { shots: outside },
          {
            outDir,
            baseUrl: base.journalBase,
            journal: journal.shots,
            ...(maxAttempts !== undefined ? { maxAttempts } : {}),
          },
        )
      : [];
  const summary = summarizeAssessment(assessed);
  const budget = checkBudget(
    {
      max_cost: plan.budget.max_cost ?? undefined,
      max_seconds: plan.budget.max_seconds ?? undefined,
    },
    {
      seconds: summary.newSeconds,
      cost: summary.newCost,
      unpriced_seconds: summary.unpricedSeconds,
      currency: plan.totals.currency,
    },
  );
  return {
    manifestFile,
    plan,
    fullPlan,
    outDir,
    base,
    simulated: !!options.simulate,
    journal,
    assessed,
    others,
    summary,
    budget,
    foreign: foreignTasks(journal.shots, base.journalBase),
  };
}
