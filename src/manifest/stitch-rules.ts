import { LIMITS } from '../models.js';
import type { Origin, ResolvedShot } from './request.js';
import type { ManifestPath } from './positions.js';

/** Seconds of a transition that names no duration: the checks here and the stitcher alike. */
export const DEFAULT_TRANSITION_SECONDS = 0.5;

export type Report = (path: ManifestPath, message: string, fix: string) => void;

/** One clip as the stitcher will cut it, with where its transition was set. */
export interface StitchClipSpec {
  shot: ResolvedShot;
  /** The transition out of this clip: its own (shot, variant or defaults), else the stitch-wide one. */
  transition: { type: string; duration: number; origin: Origin } | undefined;
}

function seconds(n: number): string {
  return `${Number(n.toFixed(3))} s`;
}

/** A shot's length as requested: its duration, else the API's default. */
function lengthOf(shot: ResolvedShot): number {
  return shot.duration ?? LIMITS.durationDefault;
}

/** The clip's length once its trim is applied. */
export function keptLength(shot: ResolvedShot): number {
  const end = Math.min(shot.trim?.end ?? lengthOf(shot), lengthOf(shot));
  return Math.max(0, end - (shot.trim?.start ?? 0));
}

/** Resolves one transition spec; `cut` (and none) takes no time. */
export function transitionSpec(
  spec: { type?: string; duration?: number } | undefined,
  origin: Origin,
): StitchClipSpec['transition'] {
  if (!spec) return undefined;
  const type = spec.type ?? 'fade';
  const duration = type === 'cut' ? 0 : (spec.duration ?? DEFAULT_TRANSITION_SECONDS);
  return { type, duration, origin: spec.duration !== undefined ? [...origin, 'duration'] : origin };
}

/** A trim must lie within the clip the shot asks for: start before its end, end not after it. */
export function checkTrim(shot: ResolvedShot, report: Report): void {
  const trim = shot.trim;
  const origin = shot.origins.trim;
  if (!trim || !origin) return;
  const length = lengthOf(shot);
  const lasts = `shot ${shot.id}, which lasts ${seconds(length)} (${shot.duration === undefined ? 'the API default duration' : `duration: ${length}`})`;
  if (trim.end !== undefined && trim.end > length) {
    const longer = Math.ceil(trim.end);
    report(
      [...origin, 'end'],
      `trim.end ${trim.end} is past the end of ${lasts}`,
      `keep trim.end <= ${length}${longer <= LIMITS.durationMax ? `, or set duration: ${longer} on shot ${shot.id}` : ''}`,
    );
  }
  if (trim.start !== undefined && trim.start >= length) {
    report(
      [...origin, 'start'],
      `trim.start ${trim.start} leaves nothing of ${lasts}`,
      `keep trim.start < ${length}`,
    );
  }
}

/**
 * Each clip is shared by the transition into it and the one out of it: together they must fit
 * in what the trim keeps, as the stitcher requires. Reported at the transition that overflows.
 */
export function checkTransitions(clips: readonly (StitchClipSpec | undefined)[], report: Report) {
  const joins = clips.slice(0, -1).map((c) => c?.transition);
  joins.forEach((join, i) => {
    if (!join || join.duration === 0) return;
    for (const k of [i, i + 1]) {
      const clip = clips[k];
      if (!clip) continue;
      const into = k > 0 ? (joins[k - 1]?.duration ?? 0) : 0;
      const out = joins[k]?.duration ?? 0;
      const kept = keptLength(clip.shot);
      if (into + out <= kept + 1e-6) continue;
      const trimmed = clip.shot.trim ? ' after its trim' : '';
      const both =
        into > 0 && out > 0
          ? `, and the transitions into and out of it take ${seconds(into + out)}`
          : '';
      report(
        join.origin,
        `the ${join.type} transition after shot ${clips[i]!.shot.id} takes ${seconds(join.duration)}, but clip ${clip.shot.id} lasts ${seconds(kept)}${trimmed}${both}`,
        `shorten the transition to at most ${seconds(Math.max(0, kept - (into + out - join.duration)))}, trim less of ${clip.shot.id}, or use type: cut`,
      );
    }
  });
}
