/**
 * The job a command looks at: the manifest planned as the renders in an output folder were
 * made (local files at the URLs of the API the journal's renders belong to, chained shots with
 * the frames of the clips on disk), so status, stitch, review and pick find each shot by the
 * body it was rendered from, and a pick names the body stitch checks it against.
 */
import path from 'node:path';
import { cjkFontFound } from '../media/fonts.js';
import { assetLocation, localAssets, type LocalAsset } from '../assets/local.js';
import { refuseUnallowedCommand } from '../assets/open.js';
import { ManifestError, UsageError, formatDiagnostic, optionText } from '../errors.js';
import { loadManifest, type LoadedManifest } from '../manifest/load.js';
import { takeKey } from '../manifest/identity.js';
import { plan as makePlan, type PlanOptions } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import type { AccountsFile } from '../render/accounts-file.js';
import { JOURNAL_FILE, liveJournal, readJournal, type LiveJournal } from '../render/journal.js';
import { assessShots, summarizeAssessment, type AssessOptions } from '../render/state.js';
import { accountsFileOf, checkPoolFlags, loadAccounts, poolBase } from './accounts.js';
import { SIMULATOR_BASE, chooseBase, type BaseChoice } from './base.js';
import { chainContext, resolveReadyFrames, waitsForFrames } from './chain.js';
import { checkFolderApi, folderApi, outDirOf, takeOverNote } from './folder-api.js';
import { extraTakesFrom, manifestPicks } from './picks.js';
import { planOptionsOf } from './plan-options.js';
import { marksIn } from './reroll.js';
import { shardPlan, type ShardSpec } from './shard.js';
import type { ChainContext, JobCaches, PreparedRun, RunOptions } from './types.js';
import { audioLengthProblems } from '../media/audio-lengths.js';
import { ProbeCache } from '../media/probe.js';
import { HashCache } from '../render/store.js';

/** Fresh caches for one job (see {@link JobCaches}). */
export function jobCaches(): JobCaches {
  return { hashes: new HashCache(), probes: new ProbeCache(), frames: new Map() };
}

/** The flags that say which API's renders a command looks at (`status`, `review`). */
export type BaseFlags = Pick<RunOptions, 'simulate' | 'baseUrl' | 'accounts' | 'env'>;

/**
 * The base URL whose journal keys a command looks up, as `run` with the same flags keys them:
 * the accounts file's, else `--simulate`, `--base-url`, `$SHOTLIST_BASE_URL`, the default.
 */
export async function lookupBase(options: BaseFlags, cwd: string): Promise<string> {
  const env = options.env ?? process.env;
  const accounts = accountsFileOf(options.accounts, env);
  if (accounts === undefined) {
    return chooseBase({ simulate: options.simulate, baseUrl: options.baseUrl, env }).journalBase;
  }
  checkPoolFlags(options);
  return (await loadAccounts(accounts, { cwd, env, needKeys: false })).baseUrl;
}

/** Whether any of the flags naming an API was given (else the journal's last API is looked at). */
export function namesBase(options: BaseFlags): boolean {
  return (
    !!options.simulate ||
    options.baseUrl !== undefined ||
    accountsFileOf(options.accounts, options.env ?? process.env) !== undefined
  );
}

/**
 * The API a command looks at in `outDir`: the one its flags name (as {@link lookupBase}), else
 * the folder's (as {@link folderLookup} finds it), else the one a run would use; with the
 * folder's journal, read once. The one answer status, plan, cost, stitch, review and pick give.
 */
export async function folderLookupBase(
  options: BaseFlags,
  cwd: string,
  outDir: string,
  journal?: FolderJournal,
): Promise<{ journal: FolderJournal; base: string }> {
  const named = namesBase(options) ? await lookupBase(options, cwd) : undefined;
  const found = await folderLookup(outDir, named, journal);
  return { journal: found.journal, base: found.base ?? (await lookupBase(options, cwd)) };
}

/** The journal of an output folder, as read. */
export type FolderJournal = Awaited<ReturnType<typeof readJournal>>;

/**
 * The one place a command finds the API of an output folder: `named` (the API its flags
 * name), else the folder's own (`folder.json`, else its journal; a folder moved by `rebase` is
 * its new API's); undefined when neither names one yet. With the folder's journal, read once
 * (unless given). Its takes' picks are that API's.
 */
export async function folderLookup(
  outDir: string,
  named?: string,
  journal?: FolderJournal,
): Promise<{ journal: FolderJournal; base: string | undefined }> {
  const read = journal ?? (await readJournal(path.join(outDir, JOURNAL_FILE)));
  return { journal: read, base: named ?? (await folderApi(outDir, read))?.base };
}

export interface RenderedPlan {
  plan: Plan;
  /** The API whose renders the plan describes; undefined: the journal names none yet. */
  base: string | undefined;
  journal: FolderJournal;
  /** The manifest's local files, at the URLs of that API's runs. */
  assets: LocalAsset[];
}

/**
 * The plan a run against `base` (else the API the journal's last render went to) would have
 * made: local files at that run's URLs (the simulator's stand-in or `uploads`), every take the
 * picks file adds, and chained shots with the frames of the clips on disk. Sends nothing.
 */
export async function renderedPlan(
  loaded: LoadedManifest,
  options: {
    outDir: string;
    base?: string | undefined;
    /** Plan options (variant, overrides...); default: the takes the picks file adds. */
    planOptions?: PlanOptions;
    shard?: ShardSpec | undefined;
    env?: NodeJS.ProcessEnv | undefined;
    journal?: FolderJournal;
    /** The caches of the job looking; default: its own. */
    caches?: JobCaches;
  },
): Promise<RenderedPlan> {
  const { outDir } = options;
  const caches = options.caches ?? jobCaches();
  const { journal, base } = await folderLookup(outDir, options.base, options.journal);
  const simulated = base === SIMULATOR_BASE;
  const assets = await localAssets(loaded, { simulate: simulated });
  const planOptions = options.planOptions ?? extraTakesFrom(await manifestPicks(loaded.file, base));
  const plan = shardPlan(makePlan(loaded, { ...planOptions, assets }), options.shard);
  if (base === undefined || !plan.shots.some(waitsForFrames))
    return { plan, base, journal, assets };
  const chain = await jobChain(loaded, plan, {
    outDir,
    simulated,
    frames: caches.frames,
    assess: { outDir, baseUrl: base, journal: journal.shots, hashes: caches.hashes },
    env: options.env ?? process.env,
  });
  return { plan: (await resolveReadyFrames(plan, chain)).plan, base, journal, assets };
}

/**
 * The one resolver of chained frames: how a job's frames are cut, addressed (the URLs the
 * job's API will read them at) and assessed, with the take the picks file chose for each shot.
 */
function jobChain(
  loaded: LoadedManifest,
  whole: Plan,
  at: {
    outDir: string;
    simulated: boolean;
    assess: AssessOptions;
    env: NodeJS.ProcessEnv;
    frames: Map<string, string>;
  },
): Promise<ChainContext> {
  return chainContext(whole, {
    frames: at.frames,
    outDir: at.outDir,
    location: assetLocation(loaded.manifest.uploads, at.simulated),
    assess: at.assess,
    env: at.env,
  });
}

/**
 * The output folder of a run of `manifest` with these flags: `--out`, else the default one
 * next to the manifest. The one place a run, a saved plan and an enqueuer choose it.
 */
export async function jobOutDir(
  manifest: { file: string; name: string },
  options: Pick<RunOptions, 'out' | 'shard' | 'cwd' | 'simulate'>,
  warn?: (line: string) => void,
): Promise<string> {
  const cwd = options.cwd ?? process.cwd();
  return path.resolve(
    cwd,
    options.out ??
      (await outDirOf(manifest, { simulate: options.simulate, shard: options.shard, note: warn })),
  );
}

/**
 * The job a run (and `plan --save`, `enqueue`) works on, opened once: the manifest and its
 * picks, its local files at the URLs the run's API will read them at, the output folder, the
 * API (base, simulator or account pool), the journal, read once, and the plan of this run and
 * of the whole manifest with each shot's state. Sends nothing.
 */
export async function openJob(
  file: string,
  options: RunOptions,
  warn?: (line: string) => void,
): Promise<Job> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const manifestFile = path.resolve(cwd, file);
  const planned = await planJob(manifestFile, options, warn);
  const outDir = await jobOutDir(planned.plans.sharded.manifest, options, warn);
  const pool = await jobAccounts(options, cwd, env);
  const base = pool
    ? poolBase(pool.accounts, pool.file)
    : chooseBase({ simulate: options.simulate, baseUrl: options.baseUrl, env });
  const journalFile = path.join(outDir, JOURNAL_FILE);
  const journal = await readJournal(journalFile);
  // One folder, one API: another API's folder is refused here, before anything is sent.
  const folder = await checkFolderApi(outDir, base.journalBase, journal);
  const takeOver = takeOverNote(outDir, folder, base.journalBase);
  if (takeOver !== undefined) warn?.(takeOver);
  const caches = jobCaches();
  const state = await assessJob(planned, {
    caches,
    options,
    outDir,
    journalBase: base.journalBase,
    journal,
    env,
  });
  const live = liveJournal(journalFile, journal);
  return {
    manifestFile,
    ...planned,
    outDir,
    base,
    journal,
    live,
    caches,
    ...state,
    ...(pool ? { pool } : {}),
  };
}

/** A job opened by {@link openJob}. */
export interface Job extends PlannedJob, AssessedJob {
  manifestFile: string;
  outDir: string;
  base: BaseChoice;
  journal: FolderJournal;
  /** The journal the job appends to: the one read, kept in step, never read again. */
  live: LiveJournal;
  caches: JobCaches;
  /** The account pool (`--accounts`), read and checked, when one is named. */
  pool?: { file: string; accounts: AccountsFile };
}

/** The run's account pool, read and checked (keys set unless a dry run), when one is named. */
async function jobAccounts(options: RunOptions, cwd: string, env: NodeJS.ProcessEnv) {
  const file = accountsFileOf(options.accounts, env);
  if (file === undefined) return undefined;
  checkPoolFlags(options);
  const accounts = await loadAccounts(file, { cwd, env, needKeys: !options.dryRun });
  return { file, accounts };
}

function checkForce(plan: Plan, force: RunOptions['force']): void {
  if (!Array.isArray(force)) return;
  const ids = new Set(plan.shots.map((s) => s.id));
  const unknownIds = force.filter((id) => !ids.has(id));
  if (unknownIds.length > 0) {
    throw new UsageError(`${optionText('force')} names ${unknownIds.join(', ')}, not in the plan`, {
      kind: 'force_known_shots',
    });
  }
}

/** The manifest, loaded and planned: this run's shots, and the whole manifest's. */
interface PlannedJob {
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

async function planJob(
  manifestFile: string,
  options: RunOptions,
  warn: ((line: string) => void) | undefined,
): Promise<PlannedJob> {
  const loaded = await loadManifest(manifestFile, {
    allowOutside: options.allowOutside === true,
    missingUploads: options.simulate ? 'ignore' : 'error',
    cjkFont: cjkFontFound,
  });
  const audio = await audioLengthProblems(loaded);
  if (audio.some((d) => d.severity === 'error')) throw new ManifestError(audio);
  for (const w of audio) warn?.(formatDiagnostic(w));
  // A simulated run uploads to the simulator and a dry run uploads nothing: no command runs.
  if (!options.simulate && !options.dryRun)
    refuseUnallowedCommand(loaded, options.allowCommand === true);
  const overrides = options.overrides ?? {};
  const assets = await localAssets(loaded, { simulate: options.simulate });
  // A simulated run's picks are its own (pools are never simulated).
  const picks = await manifestPicks(loaded.file, options.simulate ? SIMULATOR_BASE : undefined);
  const planned = makePlan(loaded, { ...planOptionsOf({ ...options, overrides }, picks), assets });
  for (const w of planned.warnings) warn?.(formatDiagnostic(w));
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

/** What each shot of the job needs, from the journal and the clips on disk. */
interface AssessedJob {
  plan: Plan;
  fullPlan: Plan;
  assessed: PreparedRun['assessed'];
  others: PreparedRun['others'];
  summary: PreparedRun['summary'];
  chain: ChainContext;
  frameAssets: LocalAsset[];
}

async function assessJob(
  planned: PlannedJob,
  at: {
    options: RunOptions;
    outDir: string;
    journalBase: string;
    journal: FolderJournal;
    env: NodeJS.ProcessEnv;
    caches: JobCaches;
  },
): Promise<AssessedJob> {
  const { options, outDir, journal } = at;
  const { loaded, partial, plans } = planned;
  const maxAttempts = options.maxAttempts ?? loaded.manifest.max_attempts;
  const assessOptions = {
    outDir,
    baseUrl: at.journalBase,
    journal: journal.shots,
    hashes: at.caches.hashes,
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  };
  const chain = await jobChain(loaded, plans.shardedFull, {
    outDir,
    simulated: !!options.simulate,
    frames: at.caches.frames,
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
