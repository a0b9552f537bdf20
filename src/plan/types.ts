import type { Diagnostic } from '../errors.js';
import type { Mode, Ratio, Size } from '../models.js';
import type { VideoRequest } from '../api/contract.js';
import type { FrameDependency } from '../manifest/frames.js';
import type { Voiceover } from '../manifest/types.gen.js';

/** One request the run will send: a shot, in one variant, one take. */
export interface PlannedShot {
  id: string;
  /** The variant's name, or null when the manifest has no variants. */
  variant: string | null;
  /** 1-based take number (a shot with `takes: 3` plans takes 1, 2, 3). */
  take: number;
  /** A take beyond the manifest's `takes`, added by a re-roll: where it is recorded (the picks file). */
  added_by?: string;
  mode: Mode;
  model: string;
  /** Effective values: what the API will use, even where the request leaves them to its defaults. */
  size: Size;
  ratio: Ratio;
  seconds: number;
  audio: boolean;
  prompt: string;
  unit_price: number | null;
  cost: number | null;
  currency: string | null;
  /** The exact body that would be POSTed to `/v1/videos`. */
  request: VideoRequest;
  /** Stitching settings of this shot (from defaults, variant or shot), if any. */
  trim?: { start?: number; end?: number };
  transition?: { type?: string; duration?: number };
  /** The shot's caption as the manifest writes it (variables expanded): a text or timed cues. */
  caption?: string | { text: string; start?: number; end?: number }[];
  /** The shot's own voice-over, as the manifest writes it (a path relative to the manifest). */
  voiceover?: Voiceover;
  /** Where the shot is written in the manifest. */
  source: { file: string; line: number; col: number };
  /**
   * The label (`id[@variant][ take N]`) of an earlier shot of the plan whose request is the
   * same body: this one is rendered once with it and shares its clip, at cost 0.
   */
  shared_with?: string;
  /**
   * Frames of other shots' clips its body waits for (`{ from, frame }` image entries): until
   * the run cuts them, `request.images` holds a `shotlist-frame://` placeholder there.
   */
  depends_on?: FrameDependency[];
  /**
   * The cast members its prompt mentions, whose images and words its body carries (words only
   * when it starts on a frame `as: first_frame`).
   */
  cast?: string[];
  /** What people should know before it is sent, shown under the plan's table. */
  note?: string;
}

export interface PlanTotals {
  shots: number;
  seconds: number;
  /** Cost of the priced shots, or null when no shot has a price. */
  cost: number | null;
  currency: string | null;
  /** Billable seconds of shots whose model has no price in `pricing`. */
  unpriced_seconds: number;
}

/** Seconds and cost (null: none of them priced) of some renders. */
export interface MoneyFigure {
  seconds: number;
  cost: number | null;
}

/** What a job's limits over every run are checked against: the journal's figures and this run's. */
export interface JobSpend {
  /** What completed tasks of earlier runs billed. */
  billed: MoneyFigure;
  /** What tasks whose outcome is unknown, or still running, may have billed. */
  at_risk: MoneyFigure;
  /** What this run would submit. */
  this_run: MoneyFigure;
  /** Seconds among the three without a price. */
  unpriced_seconds: number;
}

export interface BudgetVerdict {
  max_cost: number | null;
  max_seconds: number | null;
  /** Set when `max_cost` is the run's option (the CLI's `--max-cost`), tighter than the manifest's. */
  max_cost_from?: 'options';
  /** Limits over every run of the job (`budget.max_total_cost`, `max_total_seconds`). */
  max_total_cost?: number | null;
  max_total_seconds?: number | null;
  /** The figures the total limits were checked against (a run with the journal read). */
  job?: JobSpend;
  ok: boolean;
  /** Why the budget does not hold, when it does not. */
  reason: string | null;
  /**
   * Why the job is already over a total limit when this run sends nothing new: not a refusal
   * (a run that sends nothing may still collect, stitch and report), but said.
   */
  over_total?: string;
}

/** The stitch options as the manifest writes them; `src/media` resolves them. */
export type StitchSpec = Record<string, unknown>;

export interface Plan {
  manifest: { file: string; name: string };
  /** `concurrency` from the manifest, if set. */
  concurrency: number | null;
  /** `rpm` from the manifest (requests per minute to the API), if set. */
  rpm?: number;
  shots: PlannedShot[];
  totals: PlanTotals;
  budget: BudgetVerdict;
  stitch: StitchSpec | null;
  /** Shot ids in manifest order (the default stitch order). */
  order: string[];
  variants: (string | null)[];
  warnings: Diagnostic[];
  /** Local files of the assets and the URL each will have once uploaded (none: no local files). */
  assets?: PlannedAsset[];
  /** The manifest's cast, as written (images as the manifest names them). */
  cast?: Record<string, { images: string[]; description?: string }>;
}

/** A local asset file as the plan shows it: its URL is content-addressed, known before upload. */
export interface PlannedAsset {
  /** The references naming the file, as the manifest writes them. */
  refs: string[];
  url: string;
  bytes: number;
}
