/** `shotlist status` as a function: the journal's view of each planned shot, nothing sent. */
import path from 'node:path';
import { loadManifest } from '../manifest/load.js';
import { plan as makePlan } from '../plan/plan.js';
import type { BudgetVerdict, Plan } from '../plan/types.js';
import { billedCheck, type BilledCheck } from '../report/billed.js';
import { costLedger, pricesOf, type Money } from '../render/cost.js';
import { JOURNAL_FILE, type JournalShot, type ParsedJournal } from '../render/journal.js';
import {
  assessShots,
  summarizeAssessment,
  type AssessedShot,
  type AssessmentSummary,
} from '../render/state.js';
import { SIMULATOR_BASE, sameBase } from './base.js';
import { runBudget } from './budget.js';
import { checkFolderApi, outDirOf, simulatedFolderBeside } from './folder-api.js';
import { applyPicks, extraTakesFrom, manifestPicks, type AppliedPicks } from './picks.js';
import { planOptionsOf } from './plan-options.js';
import { folderLookupBase, namesBase, renderedPlan } from './job.js';
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
> & {
  /** Notes for people (which folder was looked at). */
  note?: (line: string) => void;
};

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
  /**
   * Looked at for one API while the journal holds renders of these shots only for another
   * (an accounts file's, another `--base-url`): that base and how many renders it holds.
   */
  elsewhere: { base: string; renders: number } | undefined;
  /** The take stitch uses of each shot (its applied pick, else 1), and the picks not applied. */
  picks: Pick<AppliedPicks, 'takeOf' | 'stale'>;
  /** The budget verdict on the new spend, as `run` would check it. */
  budget: BudgetVerdict;
  /** Previewed against the seconds the API reported billing, over the shots it reported on. */
  billed: BilledCheck | undefined;
  /**
   * What may have been billed over every run of the folder (as `cost` counts it): submissions
   * whose outcome was never seen, even when their shots are done since (`--retry-unknown`).
   */
  atRisk: Money;
}

/** The other API (not the simulator) whose renders the journal holds most of, when nothing is found for `base`. */
function rendersElsewhere(
  journal: ParsedJournal & { shots: Map<string, JournalShot> },
  base: string,
  summary: AssessmentSummary,
  shots: number,
): ManifestStatus['elsewhere'] {
  if (shots === 0 || summary.counts.new !== shots) return undefined;
  const counts = new Map<string, number>();
  for (const j of journal.shots.values()) {
    if (j.base === undefined || j.base === SIMULATOR_BASE || sameBase(j.base, base)) continue;
    // A request refused before reaching that API (connection refused...) rendered nothing.
    if (j.phase === 'failed' && j.taskId === undefined) continue;
    counts.set(j.base, (counts.get(j.base) ?? 0) + 1);
  }
  const [top] = [...counts].sort((a, b) => b[1] - a[1]);
  return top && { base: top[0], renders: top[1] };
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
  const partial = options.variant !== undefined || options.only !== undefined;
  const outDir = path.resolve(
    cwd,
    options.out ??
      (await outDirOf(
        { file: loaded.file, name: loaded.manifest.name },
        { simulate: options.simulate, shard: options.shard, note: options.note },
      )),
  );
  // Without an API flag, the folder's API: the one its renders and money belong to.
  const found = await folderLookupBase(options, cwd, outDir);
  const base = found.base;
  // One folder, one API: named another one, status refuses rather than show it all as new.
  if (namesBase(options)) await checkFolderApi(outDir, base, found.journal);
  // The picks of that API's takes (a simulated run's are its own).
  const picks = await manifestPicks(loaded.file, base);
  const journalFile = path.join(outDir, JOURNAL_FILE);
  // The bodies a run against `base` sends (local files' URLs, frames of clips on disk).
  const { plan, journal, assets } = await renderedPlan(loaded, {
    outDir,
    base,
    planOptions: planOptionsOf(options, picks),
    shard: options.shard,
    env: options.env,
    journal: found.journal,
  });
  const maxAttempts = loaded.manifest.max_attempts;
  const assess = {
    outDir,
    baseUrl: base,
    journal: journal.shots,
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  };
  const assessed = await assessShots(plan, assess);
  const summary = summarizeAssessment(assessed);
  const fullPlan = partial
    ? makePlan(loaded, { overrides: options.overrides ?? {}, ...extraTakesFrom(picks), assets })
    : plan;
  const simulatedElsewhere =
    base !== SIMULATOR_BASE &&
    summary.counts.new === assessed.length &&
    ([...journal.shots.values()].some((j) => j.base === SIMULATOR_BASE) ||
      (options.out === undefined &&
        journal.entries.length === 0 &&
        (await simulatedFolderBeside({ file: loaded.file, name: loaded.manifest.name }, options))));
  return {
    plan,
    outDir,
    base,
    journalFile,
    journal,
    assessed,
    summary,
    simulatedElsewhere,
    elsewhere: rendersElsewhere(journal, base, summary, assessed.length),
    picks: applyPicks(plan, picks),
    budget: runBudget({
      plan,
      fullPlan,
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
    atRisk: costLedger(journal.entries, pricesOf(fullPlan.shots)).atRisk,
  };
}
