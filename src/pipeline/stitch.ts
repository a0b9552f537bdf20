/**
 * Stitching what was rendered: one video per variant from the clips the journal vouches for.
 * Used at the end of `run` and by `shotlist stitch`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { loadManifest } from '../manifest/load.js';
import { assembleOutputs } from '../media/assemble.js';
import { finalInputs, moveStaleFinal } from '../media/finals.js';
import { cjkFontFound } from '../media/fonts.js';
import { stitchJobs, type StitchJob } from '../media/outputs.js';
import { previewJob } from '../media/exports.js';
import { plan as makePlan } from '../plan/plan.js';
import type { Plan, PlannedShot } from '../plan/types.js';
import {
  JOURNAL_FILE,
  readJournal,
  type JournalEntry,
  type JournalShot,
} from '../render/journal.js';
import type { OutputReport, RunReport } from '../report/types.js';
import { findRenderedClips } from './clips.js';
import { assembleReport } from './report.js';
import { folderLookup, jobCaches, renderedPlan } from './job.js';
import { checkFolderApi, outDirOf } from './folder-api.js';
import { currentSkippedFinals } from './kept-finals.js';
import type { JobCaches, StaleFinal, StitchRenderedResult } from './types.js';
import {
  extraTakesFrom,
  manifestPicks,
  picksOfPlan,
  staleMessage,
  type AppliedPicks,
} from './picks.js';

export interface StitchRenderedOptions {
  outDir: string;
  /** Only the clips of this API base; default the base with the most clips in the journal. */
  base?: string | undefined;
  /** Bases to try besides those the journal records (journals from before it recorded them). */
  fallbackBases?: readonly string[];
  /** Stitch these variants only; default every variant of the plan. */
  variants?: readonly (string | null)[];
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Notes for people: what was skipped and why, the path taken, failures. */
  log?: (line: string) => void;
  /** Share done of one output's encode. */
  onProgress?: (variant: string | null, fraction: number) => void;
  /** The output folder's journal, already read by the caller; default: read here. */
  journal?: { shots: Map<string, JournalShot>; entries: readonly JournalEntry[] };
  /** The output folder's report.json, as the caller reads it; default: read here. */
  earlier?: Promise<RunReport | undefined>;
  /** The caches of the job stitching: clips it checked are not read again while unchanged. */
  caches?: JobCaches;
  /** Make each variant's low-resolution draft (`final.<variant>.preview.mp4`) instead of its finals. */
  preview?: boolean;
}

/** Each job with the fingerprint of its inputs, so an unchanged final is kept as it is. */
async function withInputs(
  jobs: readonly StitchJob[],
  outDir: string,
  shaOf: (file: string) => string | undefined,
): Promise<StitchJob[]> {
  return Promise.all(
    jobs.map(async (job) => {
      const shas = job.options.clips.map((c) => shaOf(c.file));
      if (shas.some((s) => s === undefined)) return job;
      return { ...job, inputs: await finalInputs(job, outDir, shas as string[]) };
    }),
  );
}

/** Moves aside the finals of variants that were not made, and says so. */
async function moveStale(
  outDir: string,
  unmade: readonly { variant: string | null; output: string }[],
  log: ((line: string) => void) | undefined,
  read: StitchRenderedOptions['earlier'],
): Promise<StaleFinal[]> {
  if (unmade.length === 0) return [];
  const earlier = await (read ?? readRunReport(outDir)).catch(() => undefined);
  const madeBefore = new Set((earlier?.outputs ?? []).map((o) => o.file));
  const stale: StaleFinal[] = [];
  for (const u of unmade) {
    const moved = await moveStaleFinal(outDir, u.output, madeBefore);
    if (!moved) continue;
    stale.push({ variant: u.variant, file: u.output, moved_to: moved });
    log?.(`${u.output} no longer matches the manifest: moved aside to ${moved}`);
  }
  return stale;
}

/**
 * Stitches one video per variant from the verified clips of the whole plan (the picked take of
 * each shot, else its first, in the stitch order). A variant missing a clip is skipped with the
 * ids, never stitched with holes.
 */
export async function stitchRendered(
  plan: Plan,
  options: StitchRenderedOptions,
): Promise<StitchRenderedResult> {
  const journal = options.journal ?? (await readJournal(path.join(options.outDir, JOURNAL_FILE)));
  const clips = await findRenderedClips(plan, {
    outDir: options.outDir,
    journal: journal.shots,
    base: options.base,
    ...(options.fallbackBases ? { fallbackBases: options.fallbackBases } : {}),
    ...(options.caches ? { hashes: options.caches.hashes } : {}),
  });
  const picks = await picksOfPlan(plan, clips.base);
  for (const s of picks.stale) options.log?.(staleMessage(s));
  for (const a of picks.applied) options.log?.(`${a.label}: picked take ${a.take}`);
  const wanted = options.variants ? new Set(options.variants) : undefined;
  const all = stitchJobs(
    plan,
    pickedClip(plan, picks, clips.clipOf),
    options.outDir,
    path.dirname(plan.manifest.file),
  );
  const finals = all.jobs.filter((j) => !wanted || wanted.has(j.variant));
  const jobs = options.preview ? finals.filter((j) => !j.export).map(previewJob) : finals;
  const skipped = all.skipped.filter((s) => !wanted || wanted.has(s.variant));
  for (const s of skipped) options.log?.(`${s.variant ? `${s.variant}: ` : ''}${s.reason}`);
  const ready = await withInputs(jobs, options.outDir, clips.shaOf);
  const { outputs, failed } = await assembleOutputs(ready, options.outDir, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.caches ? { probes: options.caches.probes } : {}),
  });
  const failedJobs = jobs.filter((j) =>
    failed.some((f) => f.variant === j.variant && f.export === j.export),
  );
  // A final is moved aside only when the manifest or the picks changed what it must contain.
  const current = await currentSkippedFinals(plan, skipped, {
    outDir: options.outDir,
    entries: journal.entries,
    assessed: clips.assessed,
    picked: (clipOf) => pickedClip(plan, picks, clipOf),
  });
  for (const output of current)
    options.log?.(`${output} is kept: it holds the clips the manifest and picks ask for`);
  const unmade = [
    // A draft never moves a final aside.
    ...(options.preview ? [] : skipped.filter((s) => !current.has(s.output))),
    ...failedJobs.map((j) => ({
      variant: j.variant,
      output: path.relative(options.outDir, j.options.output),
    })),
  ];
  // Interrupted too: a final the stitch was about to replace is outdated, never left looking current.
  const stale = await moveStale(options.outDir, unmade, options.log, options.earlier);
  return {
    outputs,
    skipped,
    failed,
    found: clips.found,
    base: clips.base,
    stale,
    picks: { applied: picks.applied, stale: picks.stale },
    assessed: clips.assessed,
  };
}

/** `clipOf` seen through the picks: a shot's first take stands for the take picked for it. */
function pickedClip(
  plan: Pick<Plan, 'shots'>,
  picks: AppliedPicks,
  clipOf: (shot: PlannedShot) => string | undefined,
): (shot: PlannedShot) => string | undefined {
  return (shot) => {
    const take = picks.takeOf(shot.id, shot.variant);
    if (take === shot.take) return clipOf(shot);
    const picked = plan.shots.find(
      (s) => s.id === shot.id && s.variant === shot.variant && s.take === take,
    );
    return picked && clipOf(picked);
  };
}

/** The report's outputs after new ones were made: earlier finals still on disk are kept. */
export function mergeOutputs(
  outDir: string,
  earlier: readonly OutputReport[],
  made: readonly OutputReport[],
): OutputReport[] {
  const kept = earlier.filter(
    (o) => !made.some((n) => n.variant === o.variant) && existsSync(path.resolve(outDir, o.file)),
  );
  return [...kept, ...made];
}

/** The report of the last run in `outDir`, if there is one. */
export async function readRunReport(outDir: string): Promise<RunReport | undefined> {
  try {
    return JSON.parse(await readFile(path.join(outDir, 'report.json'), 'utf8')) as RunReport;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface StitchManifestOptions extends Omit<StitchRenderedOptions, 'variants' | 'outDir'> {
  cwd?: string;
  /** The run's output folder; default `renders/<name>` (`.simulated`) next to the manifest. */
  out?: string;
  /** Simulated renders: the default folder is `renders/<name>.simulated`. */
  simulate?: boolean;
  /** Read local files outside the manifest's folder tree (`--allow-outside`). */
  allowOutside?: boolean;
  variant?: string;
  /** Printed in the "render first" advice: how to run this manifest with the same flags. */
  runCommand?: string;
}

/** `shotlist stitch`: stitches what runs rendered and refreshes the report's outputs. */
export async function stitchManifest(
  file: string,
  options: StitchManifestOptions = {},
): Promise<StitchRenderedResult & { outDir: string }> {
  const cwd = options.cwd ?? process.cwd();
  const loaded = await loadManifest(path.resolve(cwd, file), {
    allowOutside: options.allowOutside === true,
    cjkFont: cjkFontFound,
  });
  const outDir = path.resolve(
    cwd,
    options.out ??
      (await outDirOf(
        { file: loaded.file, name: loaded.manifest.name },
        { simulate: options.simulate, note: options.log },
      )),
  );
  // One folder, one API: told which API, a folder of another one is refused, nothing written.
  if (options.base !== undefined) await checkFolderApi(outDir, options.base);
  // The takes of the API stitched (else the journal's last): its picks file's extra takes.
  const { journal, base } = await folderLookup(outDir, options.base);
  // The whole manifest's plan, as the report's: `--variant` only chooses the finals made.
  const caches = jobCaches();
  const { plan, assets } = await renderedPlan(loaded, {
    outDir,
    base,
    journal,
    caches,
    planOptions: extraTakesFrom(await manifestPicks(loaded.file, base)),
    env: options.env,
  });
  if (options.variant !== undefined) makePlan(loaded, { variant: options.variant, assets });
  // Read once: a report.json that cannot be read still fails the command after stitching.
  const earlier = readRunReport(outDir);
  earlier.catch(() => undefined);
  const result = await stitchRendered(plan, {
    ...options,
    outDir,
    journal,
    earlier,
    caches,
    ...(options.variant !== undefined ? { variants: [options.variant] } : {}),
  });
  if (result.found === 0) {
    throw new UsageError(
      `no rendered clips in ${outDir} (the journal records none)`,
      `render first: ${options.runCommand ?? `shotlist run ${file}`}`,
    );
  }
  // The report is rebuilt from the job as it stands: the chosen takes, the edited shots.
  const report = await earlier;
  // Interrupted, the report is written only when the finals changed (one made, one moved aside).
  const changed = result.outputs.length > 0 || result.stale.length > 0;
  // A draft is not a deliverable: the report keeps describing the finals.
  if (report && !options.preview && (changed || !options.signal?.aborted)) {
    const { writeReport } = await import('../report/write.js');
    await writeReport(
      outDir,
      assembleReport({
        plan,
        assessed: result.assessed,
        entries: journal.entries,
        earlier: report,
        picks: result.picks,
        stale: result.stale,
        outputs: mergeOutputs(outDir, report.outputs, result.outputs),
        baseUrl: report.base_url,
        simulated: report.simulated,
      }),
      {
        ...(options.env ? { env: options.env } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        probes: caches.probes,
      },
    );
  }
  return { ...result, outDir };
}
