/**
 * When to look at a task again. The reference polls every 5 s; most of those requests only
 * learn "not yet". Here the run learns how long its tasks take and stays quiet until a task
 * could plausibly be done, then looks closely, and backs off for a task that runs late.
 */

/** Knobs of the schedule, in milliseconds. Scale them together to model slower or faster APIs. */
export interface PollTuning {
  /** First look at a task while the run knows nothing yet. */
  firstMs: number;
  /** Never look sooner than this after the previous look. */
  minMs: number;
  /**
   * Never wait longer than this between looks. The API's progress says little (0-20 queued,
   * 30 running), so a quiet task is looked at seldom; this bounds how late an early failure
   * or a deadline is noticed.
   */
  maxMs: number;
  /** The largest acceptable delay between completion and noticing it. */
  targetDelayMs: number;
  /** Tighter target for short tasks, as a share of their typical duration. */
  relativeDelay: number;
  /** Samples needed before the learned durations are trusted. */
  minSamples: number;
  /**
   * With a push receiver: the longest quiet time between looks at a task whose push has not
   * come, once the run's tasks would usually be done. Bounds what a lost push costs.
   */
  safetyMs: number;
}

export const DEFAULT_POLL_TUNING: PollTuning = {
  firstMs: 1_000,
  minMs: 250,
  maxMs: 60_000,
  targetDelayMs: 4_500,
  relativeDelay: 0.05,
  minSamples: 3,
  safetyMs: 60_000,
};

/** Multiplies every duration of a tuning: used by benchmarks that speed time up. */
export function scaleTuning(tuning: PollTuning, factor: number): PollTuning {
  return {
    ...tuning,
    firstMs: tuning.firstMs * factor,
    minMs: tuning.minMs * factor,
    maxMs: tuning.maxMs * factor,
    targetDelayMs: tuning.targetDelayMs * factor,
    safetyMs: tuning.safetyMs * factor,
  };
}

/**
 * The schedule of a task other shots wait for (its clip gives their first frame): it looks
 * twice as closely while the task could be done, since every moment its end goes unnoticed
 * delays the whole chain after it, not only its own slot. Costs a few looks more per such task.
 */
export function chainedTuning(tuning: PollTuning): PollTuning {
  return {
    ...tuning,
    targetDelayMs: tuning.targetDelayMs / 2,
    relativeDelay: tuning.relativeDelay / 2,
  };
}

/**
 * Durations of the run's finished tasks, each the middle of the window in which it must have
 * ended (after the last look that saw it running, no later than the look that saw it done).
 */
export class DurationModel {
  private readonly samples: number[] = [];
  private sorted: number[] | undefined;

  constructor(private readonly capacity = 256) {}

  /** Records a task that was still running at `lowerMs` and done at `upperMs` (ages). */
  add(lowerMs: number, upperMs: number): void {
    const lower = Math.max(0, Math.min(lowerMs, upperMs));
    this.samples.push((lower + upperMs) / 2);
    if (this.samples.length > this.capacity) this.samples.shift();
    this.sorted = undefined;
  }

  get count(): number {
    return this.samples.length;
  }

  /** The q-quantile (0..1) of the samples; NaN when there are none. */
  quantile(q: number): number {
    if (this.samples.length === 0) return Number.NaN;
    this.sorted ??= [...this.samples].sort((a, b) => a - b);
    const pos = Math.min(1, Math.max(0, q)) * (this.sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    const a = this.sorted[lo] ?? 0;
    const b = this.sorted[hi] ?? a;
    return a + (b - a) * (pos - lo);
  }
}

export interface PollInput {
  /** Time since the task was submitted (or since this run took it over). */
  ageMs: number;
  /** Looks already taken at this task. */
  polls: number;
  model: DurationModel;
  tuning: PollTuning;
  /** A number in [0, 1) for jitter. */
  random: () => number;
}

/** How long to wait before the next look at a task. */
export function nextPollDelay(input: PollInput): number {
  const { ageMs, polls, model, tuning } = input;
  let delay: number;
  if (model.count < tuning.minSamples) {
    // Nothing learned yet: look early, then every target delay.
    delay =
      polls === 0 ? tuning.firstMs : Math.min(tuning.targetDelayMs, tuning.firstMs * 1.5 ** polls);
  } else {
    const median = model.quantile(0.5);
    const target = clamp(tuning.relativeDelay * median, tuning.minMs, tuning.targetDelayMs);
    // One look a target delay before the earliest completion seen so far (2nd percentile).
    const earliest = model.quantile(0.02) - target;
    const latest = 1.1 * model.quantile(0.95) + target;
    if (ageMs + target < earliest) {
      // Too early for any task of this run to be done: one look when the first could be.
      delay = earliest - ageMs;
    } else if (ageMs <= latest) {
      delay = target;
    } else {
      // Later than the run's tasks usually take: back off in proportion to how late.
      delay = target * (1 + (ageMs - latest) / Math.max(median, 1));
    }
  }
  const jitter = 1 + 0.1 * (2 * input.random() - 1);
  return Math.round(clamp(delay * jitter, tuning.minMs, tuning.maxMs));
}

/**
 * How long to wait for a task whose end will be pushed: a push wakes the wait earlier, so
 * these looks are only the net for a push that never comes. None before the run's tasks would
 * usually be done (the push is expected then), then one every `safetyMs`.
 */
export function nextSafetyDelay(input: Omit<PollInput, 'polls'>): number {
  const { ageMs, model, tuning } = input;
  let delay = tuning.safetyMs;
  if (model.count >= tuning.minSamples) {
    const usualEnd = 1.1 * model.quantile(0.95) + tuning.targetDelayMs;
    delay = Math.max(delay, usualEnd - ageMs);
  }
  const jitter = 1 + 0.1 * (2 * input.random() - 1);
  return Math.round(Math.max(tuning.minMs, delay * jitter));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
