import path from 'node:path';
import { ShotlistError } from '../errors.js';
import { currentFinal, recordFinal } from './finals.js';
import type { StitchJob, StitchedOutput } from './outputs.js';
import { sidecarNames } from './layer-files.js';

/** The caption sidecars of a job's final, relative to the output folder, when it has captions. */
function sidecarsOf(job: StitchJob, outDir: string): { captions?: string[] } {
  if (!job.options.captions) return {};
  const { srt, vtt } = sidecarNames(job.options.output);
  return { captions: [srt, vtt].map((f) => path.relative(outDir, f)) };
}

import { stitch, type StitchDeps } from './stitch.js';

export interface AssembleDeps extends Pick<StitchDeps, 'env' | 'signal' | 'features' | 'probes'> {
  /** Progress of one output's encode: its variant and the share done. */
  onProgress?: (variant: string | null, fraction: number) => void;
  /** Notes for people: the path taken, warnings, failures. */
  log?: (line: string) => void;
}

export interface AssembleResult {
  outputs: StitchedOutput[];
  /** Outputs that could not be made, with the reason; the others are still made. */
  failed: { variant: string | null; message: string; fix?: string; export?: string }[];
}

/** `, loudness -14.0 LUFS (range 2.1 LU, true peak -1.2 dBTP)` for the summary line. */
function loudnessNote(l: StitchedOutput['loudness']): string {
  if (!l) return '';
  return `, loudness ${l.integrated.toFixed(1)} LUFS (range ${l.range.toFixed(1)} LU, true peak ${l.true_peak.toFixed(1)} dBTP)`;
}

/**
 * Runs the stitch jobs one after another (each ffmpeg already uses every core), reporting
 * each finished file relative to `outDir`. A failed output is data, not a throw.
 */
export async function assembleOutputs(
  jobs: readonly StitchJob[],
  outDir: string,
  deps: AssembleDeps = {},
): Promise<AssembleResult> {
  const outputs: StitchedOutput[] = [];
  const failed: AssembleResult['failed'] = [];
  for (const job of jobs) {
    const name = path.relative(outDir, job.options.output);
    const kept = job.inputs ? await currentFinal(outDir, name, job.inputs) : undefined;
    // Interrupted: an output not stitched is failed, so its outdated final is moved aside.
    if (deps.signal?.aborted && !kept) {
      failed.push({
        variant: job.variant,
        message: 'interrupted before it was stitched',
        ...(job.export ? { export: job.export } : {}),
      });
      continue;
    }
    if (kept) {
      const { duration, path: how, warnings, loudness } = kept;
      outputs.push({
        variant: job.variant,
        file: name,
        duration,
        path: how,
        warnings,
        unchanged: true,
        ...sidecarsOf(job, outDir),
        ...(job.export ? { export: job.export } : {}),
        ...(loudness ? { loudness } : {}),
      });
      deps.log?.(
        `${name}: unchanged (same clips and stitch settings), not stitched again${loudnessNote(loudness)}`,
      );
      continue;
    }
    try {
      const result = await stitch(job.options, {
        ...(deps.env ? { env: deps.env } : {}),
        ...(deps.signal ? { signal: deps.signal } : {}),
        ...(deps.features ? { features: deps.features } : {}),
        ...(deps.probes ? { probes: deps.probes } : {}),
        onProgress: (fraction) => deps.onProgress?.(job.variant, fraction),
      });
      for (const w of result.warnings) deps.log?.(`stitch ${name}: warning: ${w}`);
      deps.log?.(
        `stitched ${name}: ${job.options.clips.length} clips, ${result.durationSec.toFixed(2)} s, ${
          result.path === 'copy' ? 'streams copied (no re-encode)' : 're-encoded'
        }${loudnessNote(result.loudness)}`,
      );
      const output: StitchedOutput = {
        variant: job.variant,
        file: name,
        duration: result.durationSec,
        path: result.path,
        warnings: result.warnings,
        ...sidecarsOf(job, outDir),
        ...(job.export ? { export: job.export } : {}),
        ...(result.loudness ? { loudness: result.loudness } : {}),
      };
      outputs.push(output);
      // Without its record the final is only encoded again next time: not worth failing it.
      if (job.inputs) {
        await recordFinal(outDir, output, job.inputs).catch((err: unknown) =>
          deps.log?.(`${name}: what it was made from was not recorded: ${String(err)}`),
        );
      }
    } catch (error) {
      const known = error instanceof ShotlistError;
      const message = known ? error.message : String((error as Error)?.message ?? error);
      failed.push({
        variant: job.variant,
        message,
        ...(known && error.fix ? { fix: error.fix } : {}),
        ...(job.export ? { export: job.export } : {}),
      });
      deps.log?.(
        `stitch ${name} failed: ${message}${known && error.fix ? `\n  fix: ${error.fix}` : ''}`,
      );
    }
  }
  return { outputs, failed };
}
