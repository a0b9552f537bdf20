/**
 * The job a command looks at: the manifest planned as the renders in an output folder were
 * made (local files at the URLs of the API the journal's renders belong to, chained shots with
 * the frames of the clips on disk), so status, stitch, review and pick find each shot by the
 * body it was rendered from, and a pick names the body stitch checks it against.
 */
import path from 'node:path';
import { assetLocation, localAssets, type LocalAsset } from '../assets/local.js';
import type { LoadedManifest } from '../manifest/load.js';
import { plan as makePlan, type PlanOptions } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { JOURNAL_FILE, readJournal } from '../render/journal.js';
import { accountsFileOf, checkPoolFlags, loadAccounts } from './accounts.js';
import { SIMULATOR_BASE, chooseBase } from './base.js';
import { chainContext, resolveReadyFrames, waitsForFrames } from './chain.js';
import { journalBases } from './clips.js';
import { extraTakesFrom, manifestPicks } from './picks.js';
import { shardPlan, type ShardSpec } from './shard.js';
import type { RunOptions } from './types.js';

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

/** The journal of an output folder, as read. */
export type FolderJournal = Awaited<ReturnType<typeof readJournal>>;

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
  },
): Promise<RenderedPlan> {
  const { outDir } = options;
  const journal = options.journal ?? (await readJournal(path.join(outDir, JOURNAL_FILE)));
  const base = options.base ?? journalBases(journal.shots)[0];
  const simulated = base === SIMULATOR_BASE;
  const assets = await localAssets(loaded, { simulate: simulated });
  const planOptions = options.planOptions ?? extraTakesFrom(await manifestPicks(loaded.file));
  const plan = shardPlan(makePlan(loaded, { ...planOptions, assets }), options.shard);
  if (base === undefined || !plan.shots.some(waitsForFrames))
    return { plan, base, journal, assets };
  const chain = await chainContext(plan, {
    outDir,
    location: assetLocation(loaded.manifest.uploads, simulated),
    assess: { outDir, baseUrl: base, journal: journal.shots },
    env: options.env ?? process.env,
  });
  return { plan: (await resolveReadyFrames(plan, chain)).plan, base, journal, assets };
}
