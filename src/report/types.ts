import type { StitchedOutput } from '../media/outputs.js';
import type { BilledCheck } from './billed.js';
import type { FrameDependency } from '../manifest/frames.js';
/** Where a shot stands at the end of a run: the one shot status of render and report alike. */
export type ShotStatus =
  /** Its verified file is on disk. */
  | 'done'
  | 'failed'
  /** The submission may or may not have created a task; not resubmitted. */
  | 'unknown'
  /** A task exists but is not finished (deadline, Ctrl-C): the next run picks it up. */
  | 'pending'
  /** Not started (Ctrl-C or a stopped run before its turn). */
  | 'skipped';

/** One shot (one variant, one take) in the run report. */
export interface ShotReport {
  key: string;
  id: string;
  variant: string | null;
  take: number;
  mode: string;
  model: string;
  size: string;
  ratio: string;
  prompt: string;
  seconds: number;
  unit_price: number | null;
  cost: number | null;
  currency: string | null;
  status: ShotStatus;
  cached: boolean;
  task_id: string | null;
  error: { code: string; message: string } | null;
  timings: {
    submitted_at: string | null;
    completed_at: string | null;
    downloaded_at: string | null;
  };
  /** Relative to the report's folder. */
  file: string | null;
  bytes: number | null;
  sha256: string | null;
  /** Relative to the report's folder; set by writeReport for done shots. */
  thumbnail?: string | null;
  /** The seconds the API reported billing for this shot's task, when it did. */
  reported_seconds?: number;
  /** The shot with the same request whose task and clip this one shares (cost 0). */
  shared_with?: string;
  /** The frames of other shots' clips this shot starts from (chained frames), as planned. */
  depends_on?: FrameDependency[];
  /**
   * Every verified clip this shot has had (oldest first), kept in `clips/.store/<sha256>.mp4`;
   * `current` marks the one its present request gives.
   */
  versions?: ClipVersionReport[];
  /** The take the picks file chose for the finals (set only where a pick is applied). */
  picked?: true;
}

export interface ClipVersionReport {
  sha256: string;
  bytes: number;
  downloaded_at: string;
  current: boolean;
  /** Relative to the report's folder. */
  file: string;
}

/** One stitched video (one per variant). */
/** A stitched output as report.json lists it (what the media layer made). */
export type OutputReport = StitchedOutput;

/** Seconds and cost (null: no price known) of some tasks. */
export interface MoneyTotal {
  seconds: number;
  cost: number | null;
}

/** Spend split by what the API bills: completed tasks only. */
export interface SpendTotals {
  billed: MoneyTotal;
  failed: MoneyTotal;
  at_risk: MoneyTotal;
  /** Team mode: what the tasks this run followed billed (paid by the machine that sent them). */
  followed?: MoneyTotal;
}

/** What report.json holds, and what report.html shows. */
export interface RunReport {
  version: 1;
  name: string;
  manifest: string;
  generated_at: string;
  base_url: string;
  simulated: boolean;
  shots: ShotReport[];
  outputs: OutputReport[];
  totals: {
    shots: number;
    done: number;
    failed: number;
    unknown: number;
    pending: number;
    /** Shots never sent: the run stopped (quota, key, Ctrl-C) before their turn. */
    not_sent?: number;
    /** Team mode: shots whose task another machine sent and paid; this run followed them. */
    followed?: number;
    previewed_seconds: number;
    /** Seconds of every task this run submitted or picked up: billed, failed and at risk. */
    submitted_seconds: number;
    previewed_cost: number | null;
    /** What this run's completed tasks bill (`spend.billed.cost`). */
    spent_cost: number | null;
    currency: string | null;
    /** This run's tasks: billed (completed), failed (not billed), at risk (may be billed). */
    spend?: SpendTotals;
    /** The same over every run of the job's journal (what `shotlist cost` shows). */
    job_spend?: SpendTotals & { tasks: number };
    /** Previewed against the API's reported seconds, over the shots it reported on. */
    billed_check?: BilledCheck;
  };
  /** Relative to the report's folder; set by writeReport when it made one. */
  contact_sheet?: string | null;
  /** Things the user should know that are not a shot's failure (e.g. a missing ffmpeg filter). */
  warnings?: string[];
  /** The cast sheet: each member's images (as the manifest names them) and the shots it is in. */
  cast?: CastSheetEntry[];
  /** With an account pool (`--accounts`): what each account did in this run. */
  accounts?: AccountReport[];
}

/** One account of a pool in a run: tasks it created, and why it was retired, if it was. */
export interface AccountReport {
  name: string;
  base_url: string;
  submitted: number;
  /** `key` or `quota` (the API refused it), `failing` (its submissions kept failing). */
  retired?: { reason: 'key' | 'quota' | 'failing'; message: string };
}

export interface CastSheetEntry {
  name: string;
  description?: string;
  images: string[];
  /** Labels of the shots whose prompt mentions it. */
  shots: string[];
}
