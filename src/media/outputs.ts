import path from 'node:path';
import { PIXEL_SIZES } from '../models.js';
import type { Plan, PlannedShot } from '../plan/types.js';
import type { Stitch, Transition as TransitionSpec } from '../manifest/types.gen.js';
import { DEFAULT_TRANSITION_SECONDS } from '../manifest/stitch-rules.js';
import type { StitchOptions, Transition } from './stitch-plan.js';
import { layerOptions } from './layer-options.js';
import { logoOptions } from './overlay.js';
import { voiceOptions } from './voice.js';
import { resolveLoudness } from '../manifest/export-rules.js';
import type { MeasuredLoudness } from './loudness.js';
import { exportJobs } from './exports.js';

/** The manifest's `stitch` section: the schema's generated type, never a copy of it. */
export type StitchSpec = Stitch;

export interface StitchJob {
  variant: string | null;
  options: StitchOptions;
  /** Fingerprint of the job's inputs (`finalInputs`): a final recorded with it is kept as is. */
  inputs?: string;
  /** The deliverable this job makes (`stitch.exports`, or `preview`); none for the final. */
  export?: string;
}

export interface SkippedOutput {
  variant: string | null;
  /** The final this variant would have, relative to the output folder. */
  output: string;
  reason: string;
}

function transitionOf(spec: TransitionSpec | undefined): Transition | undefined {
  if (!spec) return undefined;
  const type = spec.type ?? 'fade';
  return { type, duration: type === 'cut' ? 0 : (spec.duration ?? DEFAULT_TRANSITION_SECONDS) };
}

/** `final.mp4` -> `final.vertical.mp4` for a variant. */
export function outputName(output: string, variant: string | null): string {
  if (!variant) return output;
  const ext = path.extname(output);
  return `${output.slice(0, output.length - ext.length)}.${variant}${ext}`;
}

/**
 * What to stitch, per variant: the first take of each shot in `stitch.order` (default the
 * manifest's order). A variant with a shot that has no clip yet is skipped with the reason:
 * a "final" video with holes would mislead. Pure: `clipFile` says where a shot's clip is.
 */
export function stitchJobs(
  plan: Plan,
  clipFile: (shot: PlannedShot) => string | undefined,
  outDir: string,
  manifestDir: string,
): { jobs: StitchJob[]; skipped: SkippedOutput[] } {
  const spec = (plan.stitch ?? {}) as StitchSpec;
  const order = spec.order ?? plan.order;
  const jobs: StitchJob[] = [];
  const skipped: SkippedOutput[] = [];
  for (const variant of plan.variants) {
    const shots = order
      .map((id) => plan.shots.find((s) => s.id === id && s.variant === variant && s.take === 1))
      .filter((s): s is PlannedShot => s !== undefined);
    if (shots.length === 0) continue;
    const output = outputName(spec.output ?? 'final.mp4', variant);
    const missing = shots.filter((s) => clipFile(s) === undefined).map((s) => s.id);
    if (missing.length > 0) {
      skipped.push({
        variant,
        output,
        reason: `not stitched: ${missing.length} shot${missing.length === 1 ? ' has' : 's have'} no clip yet (${missing.join(', ')}); run again to finish them`,
      });
      continue;
    }
    const first = shots[0]!;
    const [w, h] = spec.size?.split('x').map(Number) ?? [];
    const size = w && h ? { width: w, height: h } : PIXEL_SIZES[first.size][first.ratio];
    const soundtrack = spec.soundtrack;
    const mode = soundtrack?.mode ?? 'mix';
    const { fit, ...voice } = voiceOptions(spec, shots, variant, manifestDir);
    jobs.push({
      variant,
      options: {
        output: path.resolve(outDir, output),
        clips: shots.map((s) => ({
          file: clipFile(s)!,
          id: s.id,
          ...(s.trim ? { trim: s.trim } : {}),
          ...(s.transition ? { transition: transitionOf(s.transition as TransitionSpec)! } : {}),
        })),
        transition: transitionOf(spec.transition) ?? { type: 'cut', duration: 0 },
        audio: spec.audio ?? 'keep',
        ...(soundtrack
          ? {
              soundtrack: {
                file: /^https?:\/\//.test(soundtrack.file)
                  ? soundtrack.file
                  : path.resolve(manifestDir, soundtrack.file),
                volume: soundtrack.volume ?? (mode === 'replace' ? 1 : 0.3),
                fadeOut: soundtrack.fade_out ?? 1,
                mode,
                ...(fit ? { fit } : {}),
              },
            }
          : {}),
        ...voice,
        ...logoOptions(spec, variant, manifestDir),
        size,
        fit: spec.fit ?? 'pad',
        crf: spec.crf ?? 20,
        preset: spec.preset ?? 'veryfast',
        ...layerOptions(spec, shots, variant, manifestDir, plan.cast),
        ...(spec.loudness ? { loudness: resolveLoudness(spec.loudness)! } : {}),
      },
    });
    jobs.push(...exportJobs(spec, jobs[jobs.length - 1]!));
  }
  return { jobs, skipped };
}

/** One finished output file, as the report records it. */
export interface StitchedOutput {
  variant: string | null;
  /** Relative to the report's folder. */
  file: string;
  duration: number;
  path: 'copy' | 'normalise';
  warnings: string[];
  /** Kept from an earlier run: same clips and settings, not encoded again. */
  unchanged?: boolean;
  /** Its caption sidecars (.srt, .vtt), relative to the report's folder, when it has captions. */
  captions?: string[];
  /** The deliverable (`stitch.exports` name) this file is; none for the final. */
  export?: string;
  /** Measured in the written file with ebur128, when loudness was normalised. */
  loudness?: MeasuredLoudness;
}
