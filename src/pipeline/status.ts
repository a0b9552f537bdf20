/** `shotlist status` as a function: the journal's view of each planned shot, nothing sent. */
import path from 'node:path';
import { assetLocation, localAssets } from '../assets/local.js';
import { chainContext, resolveReadyFrames } from './chain.js';
import { loadManifest } from '../manifest/load.js';
import { plan as makePlan } from '../plan/plan.js';
import type { BudgetVerdict, Plan } from '../plan/types.js';
import { billedCheck, type BilledCheck } from '../report/billed.js';
import { JOURNAL_FILE, readJournal, type ParsedJournal } from '../render/journal.js';
import {
  assessShots,
  summarizeAssessment,
  type AssessedShot,
  type AssessmentSummary,
} from '../render/state.js';
import { accountsFileOf, checkPoolFlags, loadAccounts } from './accounts.js';
import { SIMULATOR_BASE, chooseBase } from './base.js';
import { runBudget } from './budget.js';
import { defaultOutDir } from './out-dir.js';
import { extraTakesFrom, manifestPicks } from './picks.js';
import { planOptionsOf } from './plan-options.js';
import { shardPlan } from './shard.js';
import type { RunOptions } from './types.js';

export type StatusOptions = Pick<
  RunOptions,
  | 'cwd'
  | 'env'
  | 'out'
  | 'variant'
  | 'only'
  | 'overrides'
  | 'maxCost'
  | 'baseUrl'
  | 'simulate'
  | 'allowOutside'
  | 'shard'
  | 'accounts'
>;

export interface ManifestStatus {
  plan: Plan;
  outDir: string;
  /** The base URL whose journal keys were looked up. */
  base: string;
  journalFile: string;
  journal: ParsedJournal;
  assessed: AssessedShot[];
  summary: AssessmentSummary;
  /**
   * Looked at as real renders, while the journal knows these shots only from `run --simulate`:
   * the caller should say so and point at `--simulate`, not report every shot as new.
   */
  simulatedElsewhere: boolean;
  /** The budget verdict on the new spend, as `run` would check it. */
  budget: BudgetVerdict;
  /** Previewed against the seconds the API reported billing, over the shots it reported on. */
  billed: BilledCheck | undefined;
}

/** The base URL the journal keys are looked up with: the accounts file's, else as `run` picks it. */
async function statusBase(options: StatusOptions, cwd: string): Promise<string> {
  const env = options.env ?? process.env;
  const accounts = accountsFileOf(options.accounts, env);
  if (accounts === undefined) {
    return chooseBase({ simulate: options.simulate, baseUrl: options.baseUrl, env }).journalBase;
  }
  checkPoolFlags(options);
  return (await loadAccounts(accounts, { cwd, env, needKeys: false })).baseUrl;
}

/** What the next run of a manifest would do with each shot, read from the journal and files. */
export async function manifestStatus(
  file: string,
  options: StatusOptions = {},
): Promise<ManifestStatus> {
  const cwd = options.cwd ?? process.cwd();
  const loaded = await loadManifest(path.resolve(cwd, file), {
    allowOutside: options.allowOutside === true,
  });
  // The bodies carry the local files' URLs, as a run's do: the same journal keys.
  const assets = await localAssets(loaded, { simulate: options.simulate });
  const picks = await manifestPicks(loaded.file);
  const planned = shardPlan(
    makePlan(loaded, { ...planOptionsOf(options, picks), assets }),
    options.shard,
  );
  const partial = options.variant !== undefined || options.only !== undefined;
  const outDir = path.resolve(cwd, options.out ?? defaultOutDir(planned.manifest, options.shard));
  const base = await statusBase(options, cwd);
  const journalFile = path.join(outDir, JOURNAL_FILE);
  const journal = await readJournal(journalFile);
  const maxAttempts = loaded.manifest.max_attempts;
  const assess = {
    outDir,
    baseUrl: base,
    journal: journal.shots,
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  };
  // Chained shots are looked up by the body the frames of the clips on disk give them.
  const chain = await chainContext(planned, {
    outDir,
    location: assetLocation(loaded.manifest.uploads, !!options.simulate),
    assess,
    env: options.env ?? process.env,
  });
  const plan = (await resolveReadyFrames(planned, chain)).plan;
  const assessed = await assessShots(plan, assess);
  const summary = summarizeAssessment(assessed);
  const simulatedElsewhere =
    base !== SIMULATOR_BASE &&
    summary.counts.new === assessed.length &&
    [...journal.shots.values()].some((j) => j.base === SIMULATOR_BASE);
  return {
    plan,
    outDir,
    base,
    journalFile,
    journal,
    assessed,
    summary,
    simulatedElsewhere,
    budget: runBudget({
      plan,
      fullPlan: partial
        ? makePlan(loaded, { overrides: options.overrides ?? {}, ...extraTakesFrom(picks), assets })
        : plan,
      summary,
      entries: journal.entries,
      simulated: base === SIMULATOR_BASE,
    }),
    billed: billedCheck(
      assessed.flatMap((a) =>
        a.journal?.reportedSeconds !== undefined && a.sharedWith === undefined
          ? [{ shot: a.label, previewed: a.shot.seconds, reported: a.journal.reportedSeconds }]
          : [],
      ),
    ),
  };
}
