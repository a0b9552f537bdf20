/**
 * Previewed against reported: the seconds the plan priced for each shot, next to the seconds
 * the API said it billed for the shot's completed task. A difference is flagged, never
 * corrected: the API's figure is what the bill will say.
 */

/** One shot whose task the API reported on. */
export interface BilledShot {
  shot: string;
  previewed: number;
  reported: number;
}

/** The comparison over the shots the API reported on. */
export interface BilledCheck {
  /** Shots whose completed task carried the API's billed seconds. */
  shots: number;
  previewed_seconds: number;
  reported_seconds: number;
  /** The shots where the two differ. */
  differences: BilledShot[];
}

/** Compares previewed with reported seconds; undefined when the API reported on no shot. */
export function billedCheck(shots: readonly BilledShot[]): BilledCheck | undefined {
  if (shots.length === 0) return undefined;
  const sum = (f: (s: BilledShot) => number) => shots.reduce((n, s) => n + f(s), 0);
  return {
    shots: shots.length,
    previewed_seconds: sum((s) => s.previewed),
    reported_seconds: sum((s) => s.reported),
    differences: shots.filter((s) => Math.abs(s.reported - s.previewed) > 1e-6),
  };
}

/** The warning that names each shot billed otherwise than previewed, or undefined. */
export function billedWarning(check: BilledCheck | undefined): string | undefined {
  if (!check || check.differences.length === 0) return undefined;
  const shown = check.differences
    .slice(0, 10)
    .map((d) => `${d.shot} (${d.previewed} s previewed, ${d.reported} s reported)`)
    .join(', ');
  const more = check.differences.length > 10 ? ` and ${check.differences.length - 10} more` : '';
  const n = check.differences.length;
  return `the API reports billing other seconds than previewed for ${n} shot${n === 1 ? '' : 's'}: ${shown}${more}; the API's figure is what you are billed`;
}
