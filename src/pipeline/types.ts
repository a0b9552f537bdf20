import type { AssetLocation, LocalAsset } from '../assets/local.js';
import type { UploadTargetOptions } from '../assets/open.js';
import type { ShotOverrides } from '../manifest/resolve.js';
import type { ShotlistManifest } from '../manifest/types.gen.js';
import type { BudgetVerdict, Plan } from '../plan/types.js';
import type { AccountsFile } from '../render/accounts-file.js';
import type { RenderEvent } from '../render/events.js';
import type { LiveJournal, ReadJournal } from '../render/journal.js';
import type { ListenAddress } from '../render/receiver.js';
import type { RenderResult } from '../render/render.js';
import type { AssessOptions, AssessedShot, AssessmentSummary } from '../render/state.js';
import type { HashCache } from '../render/store.js';
import type { ProbeCache } from '../media/probe.js';
import type { OutputReport, RunReport } from '../report/types.js';
import type { AssembleResult } from '../media/assemble.js';
import type { SkippedOutput } from '../media/outputs.js';
import type { SimulatorOptions } from '../sim/options.js';
import type { BaseChoice } from './base.js';
import type { ForeignTasks } from './clips.js';
import type { AppliedPicks, RerollTake } from './picks.js';
import type { ShardSpec } from './shard.js';

/** What `runManifest` is asked to do: the options of `shotlist run`, as values. */
export interface RunOptions {
  /** Relative paths (the manifest, `out`) resolve against it; default `process.cwd()`. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Aborting stops submissions; tasks in flight stay journaled for the next run. */
  signal?: AbortSignal;
  /** Output folder; default `renders/<name>` next to the manifest. */
  out?: string;
  variant?: string;
  only?: string[];
  overrides?: ShotOverrides;
  maxCost?: number;
  /** Shot ids to render again although done (pays again), or `all`. */
  force?: string[] | 'all';
  /** Assess and stop: nothing is sent. */
  dryRun?: boolean;
  /** The API base URL, given explicitly; default `$SHOTLIST_BASE_URL`, else the public API. */
  baseUrl?: string;
  /** Render against an in-process simulator: no key, no spend. */
  simulate?: boolean;
  /** With `simulate`: how long the simulator's tasks take (the command line passes a parsed range). */
  simLatency?: SimulatorOptions['latency'];
  concurrency?: number;
  maxDownloadMb?: number;
  retryUnknown?: boolean;
  /** Failed tasks per request body before it is no longer submitted; default the manifest's `max_attempts`, else 2. */
  maxAttempts?: number;
  /** Submit without asking. Without it and without `confirm`, a run that would spend refuses. */
  yes?: boolean;
  /** Read local files outside the manifest's folder tree (`--allow-outside`). */
  allowOutside?: boolean;
  /**
   * Run the program the manifest's `uploads` name (`--allow-command`,
   * `SHOTLIST_ALLOW_COMMAND=1`). Without it a run of such a manifest refuses before anything
   * is sent or uploaded, unless simulated or a dry run (where the command never runs).
   */
  allowCommand?: boolean;
  /**
   * A run whose budget verdict is not ok is refused (a `BudgetError`, nothing sent) unless
   * this is `'allow'`: the explicit override for a program that has decided to spend anyway.
   */
  overBudget?: 'refuse' | 'allow';
  /**
   * A plan saved by `plan --save`: the run sends exactly it, or refuses before sending
   * anything when the manifest, prices, flags or journal drifted since.
   */
  savedPlan?: string;
  /**
   * `false` skips the preflight (`--no-preflight`); by default every http(s) reference of the
   * shots this run sends is checked before anything is sent (loopback hosts only when simulated).
   */
  preflight?: boolean;
  /** Serve a push receiver at this address and ask the API to call it. */
  listen?: ListenAddress;
  /** The receiver's address as the API reaches it (a proxy or tunnel); default the listen address. */
  publicUrl?: string;
  /** With `listen`: seconds between safety looks at a task whose push has not come (default 60). */
  safetyPollSeconds?: number;
  /**
   * Render shard `index` of `count` only (`--shard i/n`, for a CI matrix): its own output
   * folder by default, no stitching; `shotlist merge` joins the shards' folders.
   */
  shard?: ShardSpec;
  /**
   * Render one new take of each shot marked for re-roll in the picks file, and nothing else;
   * once a take is done its mark is cleared and the shot keeps the take (see reroll.ts).
   */
  reroll?: boolean;
  /**
   * Team mode (`--team`, `SHOTLIST_TEAM`): the Redis URL whose shared facts decide which
   * machine submits each shot and hold the account's task slots across machines. Parsed and
   * checked by the caller (`redis://host:port/db`); it may carry a password, never shown.
   */
  team?: URL;
  /** With `team`: seconds the whole team may reserve, over every machine (`--team-budget`). */
  teamBudget?: number;
  /** With `teamBudget`: the campaign within the account whose budget it is (`--team-campaign`). */
  teamCampaign?: string;
  /**
   * An accounts file (`--accounts`; default `$SHOTLIST_ACCOUNTS`): the run spreads its shots
   * over the keys it names (see src/render/accounts.ts); never the manifest's business.
   */
  accounts?: string;
  /**
   * With `team`, `'enqueue'` (`shotlist enqueue`): send nothing here; put the shots on the
   * team's queue for its workers (`run --worker`), follow them and download each clip.
   */
  teamRole?: 'enqueue';
  /**
   * With `teamRole: 'enqueue'` (`--wait-unknown`): how long a shot found unknown is still
   * watched in the team's facts, so a retry another machine finishes is collected; default 0.
   */
  waitUnknownMs?: number;
}

/** How a run reports while it works; every callback is optional. */
export interface RunCallbacks {
  /** Notes for people (what was skipped, stitching progress, the foreign-base warning). */
  log?: (line: string) => void;
  /** Diagnostics about the manifest (warnings of the plan). */
  warn?: (line: string) => void;
  /** The run is assessed: the moment to show what it will do (before any question). */
  onPrepared?: (run: PreparedRun) => void | Promise<void>;
  /** Asked before spending when `yes` is not set; resolves true to go on. */
  confirm?: (run: PreparedRun) => Promise<boolean>;
  /** Rendering starts / ends: a progress view can open and close around it. */
  onRenderStart?: (run: PreparedRun) => void | Promise<void>;
  onEvent?: (event: RenderEvent) => void;
  onRenderEnd?: () => void | Promise<void>;
  /** Share done of one stitched output's encode. */
  onStitchProgress?: (variant: string | null, fraction: number) => void;
}

/** Everything known before anything is sent: the plan, the journal's view, the budget. */
export interface PreparedRun {
  manifestFile: string;
  /** The job's caches: what the run checked before is not read again while unchanged. */
  caches?: JobCaches;
  /** The manifest's prices, as a saved plan records and checks them. */
  pricing: ShotlistManifest['pricing'];
  /** The shots of this run (after `only` and `variant`). */
  plan: Plan;
  /** Every shot of the manifest (the same overrides): what finals and the report describe. */
  fullPlan: Plan;
  outDir: string;
  base: BaseChoice;
  simulated: boolean;
  /** The journal as the run found it (read once). */
  journal: ReadJournal;
  /** The same journal kept in step with what the run appends: never read again. */
  live: LiveJournal;
  assessed: AssessedShot[];
  /** The shots of `fullPlan` outside this run, as the journal knows them (empty in a dry run). */
  others: AssessedShot[];
  summary: AssessmentSummary;
  budget: BudgetVerdict;
  /** Open tasks the journal holds for other base URLs. */
  foreign: ForeignTasks[];
  /** A shard's run: which shard, and how many shots its plan had before sharding. */
  shard?: { spec: ShardSpec; of: number };
  /** The local asset files of the manifest and where they are uploaded, before the first submission. */
  uploads?: {
    assets: LocalAsset[];
    config: ShotlistManifest['uploads'];
    /** How the upload target is opened: the user's opt-in to a command, the variables it never sees. */
    target: UploadTargetOptions;
  };
  /** A re-roll run (`reroll`): the new take of each marked shot. */
  rerolls?: RerollTake[];
  /** How the frames of chained shots are cut, addressed and assessed (see chain.ts). */
  chain?: ChainContext;
  /** The account pool of the run (`accounts`), checked; absent for the single key. */
  accounts?: AccountsFile;
}

/** How a run ended. */
export type RunStatus = 'dry-run' | 'declined' | 'done' | 'failed' | 'interrupted' | 'fatal';

export interface RunResult {
  status: RunStatus;
  /** 0 all shots of this run done, 1 some failed, 130 interrupted, 4 the API refused the key... */
  exitCode: number;
  prepared: PreparedRun;
  render?: RenderResult;
  stitch?: StitchRenderedResult;
  report?: RunReport;
  /** Where report.json and report.html were written. */
  reportFiles?: { json: string; html: string; contactSheet: string | null };
  /** What stopped the whole run (a refused key), redacted. */
  fatal?: { message: string; fix: string | undefined };
}

/**
 * What a job remembers while it works (clip hashes, probes, frames cut), owned by the job and
 * passed down: two jobs of one process share nothing.
 */
export interface JobCaches {
  hashes: HashCache;
  probes: ProbeCache;
  /** The PNG hash of each frame the job cut, by frame file and clip sha256. */
  frames: Map<string, string>;
}

/** What cutting, addressing and assessing frames needs to know of the run. */
export interface ChainContext {
  /** The frames the job has cut: one already cut, and unchanged since, is not cut again. */
  frames?: Map<string, string>;
  outDir: string;
  location: AssetLocation;
  /** The journal and options the run's shots were assessed with. */
  assess: AssessOptions;
  /** The take of each shot the next one starts from: the picked one, else 1. */
  takeOf: (shot: string, variant: string | null) => number;
  env: NodeJS.ProcessEnv;
}

export interface StitchRenderedResult {
  outputs: OutputReport[];
  /** Variants left alone because a shot has no verified clip; an existing final stays as it was. */
  skipped: SkippedOutput[];
  failed: AssembleResult['failed'];
  /** Shots of the plan with a verified clip. */
  found: number;
  /** The base URL whose clips were used. */
  base: string;
  /** Finals of variants that could not be made again, moved aside so none looks current. */
  stale: StaleFinal[];
  /** The picks file's takes that were used, and those not used because their shot changed. */
  picks: Pick<AppliedPicks, 'applied' | 'stale'>;
  /** Every shot of the plan as the journal and the clips on disk stand for `base`. */
  assessed: AssessedShot[];
}

export interface StaleFinal {
  variant: string | null;
  /** Where the final was, and where it is now; relative to the output folder. */
  file: string;
  moved_to: string;
}
