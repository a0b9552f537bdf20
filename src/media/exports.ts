/**
 * Deliverables and the draft preview, as stitch jobs: each copies its variant's `StitchOptions`
 * (so every layer of the final comes along) and changes only size, rate, encoding and loudness.
 */
import path from 'node:path';
import { exportFileName, resolveExport, type ResolvedExport } from '../manifest/export-rules.js';
import type { Stitch } from '../manifest/types.gen.js';
import type { StitchOptions } from './stitch-plan.js';

/** A stitch job as `outputs.ts` makes them (declared here so neither module imports the other). */
interface StitchJob {
  variant: string | null;
  options: StitchOptions;
  export?: string;
}

/** Height of the draft preview, in pixels. */
export const PREVIEW_HEIGHT = 360;
/** Frame rate of the draft preview. */
export const PREVIEW_FPS = 15;
/** The name put before the final's extension: `final.vertical.preview.mp4`. */
export const PREVIEW_NAME = 'preview';

/** `final.vertical.mp4` -> `final.vertical.preview.mp4`. */
export function previewName(final: string): string {
  return exportFileName(final, PREVIEW_NAME);
}

function withoutLoudness(options: StitchOptions): StitchOptions {
  const { loudness, ...rest } = options;
  void loudness;
  return rest;
}

function exportOptions(
  job: StitchJob,
  exp: ResolvedExport,
  stitchLoudness: StitchOptions['loudness'],
): StitchOptions {
  const base = withoutLoudness(job.options);
  const loudness = exp.loudness ?? stitchLoudness;
  const fps = exp.fps ?? job.options.fps;
  return {
    ...base,
    output: exportFileName(job.options.output, exp.name),
    size: exp.size ?? job.options.size,
    ...(fps !== undefined ? { fps } : {}),
    encoding: {
      codec: exp.codec,
      ...(exp.bitrate !== undefined ? { bitrate: exp.bitrate } : { crf: exp.crf ?? 18 }),
      preset: exp.preset,
      ...(exp.codec === 'h264' ? { profile: 'high' } : {}),
      audioBitrate: exp.audioBitrate,
      scaler: 'lanczos',
    },
    ...(loudness ? { loudness } : {}),
  };
}

/**
 * The deliverables of one variant's final job, as `stitch.exports` asks: each a full encode from
 * the clips, named `final.<variant>.<export>.mp4`.
 */
export function exportJobs(spec: Stitch, job: StitchJob): StitchJob[] {
  return (spec.exports ?? [])
    .map(resolveExport)
    .filter((exp) => !exp.variants || (job.variant !== null && exp.variants.includes(job.variant)))
    .map((exp) => ({
      variant: job.variant,
      export: exp.name,
      options: exportOptions(job, exp, job.options.loudness),
    }));
}

/**
 * The draft of a variant's whole cut: the same options (layers, transitions, soundtrack) at
 * 360 px high and 15 fps, x264 ultrafast at a high crf, a fast scaler, no loudness passes.
 */
export function previewJob(job: StitchJob): StitchJob {
  const { width, height } = job.options.size;
  const scale = Math.min(1, PREVIEW_HEIGHT / height);
  const even = (n: number) => Math.max(2, Math.round((n * scale) / 2) * 2);
  return {
    variant: job.variant,
    export: PREVIEW_NAME,
    options: {
      ...withoutLoudness(job.options),
      output: path.resolve(previewName(job.options.output)),
      size: { width: even(width), height: even(height) },
      fps: PREVIEW_FPS,
      encoding: {
        codec: 'h264',
        crf: 32,
        preset: 'ultrafast',
        audioBitrate: '96k',
        scaler: 'fast_bilinear',
      },
    },
  };
}
