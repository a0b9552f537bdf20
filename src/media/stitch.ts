import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MediaError } from '../errors.js';
import { tempName, withAtomicFile } from '../safe-fs.js';
import { detectFeatures, locateTool, type FfmpegFeatures } from './locate.js';
import { checkVideo, probe, probeAll, type ProbeCache, type ProbeResult } from './probe.js';
import { runFfmpeg, type FfmpegProgress } from './run-ffmpeg.js';
import { planStitch, type StitchOptions, type StitchPlan } from './stitch-plan.js';
import { prepareLayers, removePlanFiles, writePlanFiles, writeSidecars } from './layer-files.js';
import type { MeasuredLoudness } from './loudness.js';
import { measureCut, measureFile } from './loudness-pass.js';

export interface StitchProgressInfo extends FfmpegProgress {
  path: 'copy' | 'normalise';
  expectedDurationSec: number;
}

export interface StitchDeps {
  env?: NodeJS.ProcessEnv;
  /** Called as ffmpeg writes, with the share done (0..1). */
  onProgress?: (fraction: number, info: StitchProgressInfo) => void;
  signal?: AbortSignal;
  /** What the ffmpeg can do; detected when absent (tests pass a reduced set). */
  features?: FfmpegFeatures;
  /** The probes of the run stitching (each clip was probed when its download was checked). */
  probes?: ProbeCache;
}

export interface StitchResult {
  output: string;
  path: 'copy' | 'normalise';
  durationSec: number;
  expectedDurationSec: number;
  warnings: string[];
  /** The probe of the finished file. */
  probe: ProbeResult;
  /** The caption sidecars written beside it (.srt, .vtt), when it has captions. */
  sidecars?: string[];
  /** With `options.loudness`: what ebur128 measured in the written file. */
  loudness?: MeasuredLoudness;
}

/**
 * Stitches clips into one video: probes every clip, copies streams when they all match and
 * nothing asks for a re-encode, otherwise normalises them in one filtergraph. Writes to a
 * temporary name beside the output, checks it with ffprobe, then renames it into place.
 */
export async function stitch(asked: StitchOptions, deps: StitchDeps = {}): Promise<StitchResult> {
  const env = deps.env ?? process.env;
  const ffmpeg = locateTool('ffmpeg', env);
  const features = deps.features ?? (await detectFeatures(ffmpeg, env));
  const probes = await probeAll(
    asked.clips.map((c) => c.file),
    { env, signal: deps.signal, ...(deps.probes ? { cache: deps.probes } : {}) },
  );

  const output = path.resolve(asked.output);
  const base = path.basename(output);
  const pass = { ffmpegPath: features.path, env, signal: deps.signal };
  // Fonts found and subtitle files read once; both loudness passes plan the same cut.
  const planCtx = { features, ...(await soundtrackLength(asked, env, deps.signal)) };
  await mkdir(path.dirname(output), { recursive: true });
  const options = await withMeasuredLoudness(
    await prepareLayers({ ...asked, output }),
    probes,
    planCtx,
    pass,
  );
  const listFile = tempName(output, '.concat.txt');
  const made = await withAtomicFile(output, async (tmpOutput) => {
    const plan = planStitch(options, probes, { ...planCtx, outputFile: tmpOutput, listFile });
    try {
      if (plan.concatList !== undefined) {
        await writeFile(listFile, plan.concatList, { encoding: 'utf8', flag: 'wx' });
      }
      await writePlanFiles(plan.files);
      const result = await encode(plan, tmpOutput, base, {
        ...deps,
        env,
        ffmpegPath: features.path,
      });
      const loudness =
        options.loudness && result.audio ? await measureFile(tmpOutput, base, pass) : undefined;
      return {
        output,
        path: plan.path,
        durationSec: result.durationSec,
        expectedDurationSec: plan.expectedDurationSec,
        warnings: plan.warnings,
        probe: { ...result, file: output },
        cues: plan.cues,
        ...(loudness ? { loudness } : {}),
      };
    } finally {
      if (plan.concatList !== undefined) await rm(listFile, { force: true });
      await removePlanFiles(plan.files);
    }
  });
  const { cues, ...result } = made;
  if (!options.captions || !cues) return result;
  return { ...result, sidecars: await writeSidecars(output, cues) };
}

/** The local soundtrack's length when `fit: stretch_end` needs it; none when it cannot be read. */
async function soundtrackLength(
  options: StitchOptions,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal | undefined,
): Promise<{ soundtrackSec?: number }> {
  const track = options.soundtrack;
  if (track?.fit !== 'stretch_end' || /^https?:\/\//.test(track.file)) return {};
  const info = await probe(track.file, { env, signal, container: 'any' }).catch(() => undefined);
  const sec = info?.audio?.durationSec ?? info?.durationSec;
  return sec !== undefined && sec > 0 ? { soundtrackSec: sec } : {};
}

/**
 * The options with loudnorm's first-pass measurement, when loudness is asked and not measured.
 * The first pass plays the same graph (the files its captions and cards read written beside
 * the output, then removed) into the null muxer.
 */
async function withMeasuredLoudness(
  options: StitchOptions,
  probes: readonly ProbeResult[],
  planCtx: { features: FfmpegFeatures; soundtrackSec?: number },
  pass: Parameters<typeof measureCut>[2],
): Promise<StitchOptions> {
  if (!options.loudness || options.loudness.measured) return options;
  const outputFile = tempName(options.output, '.loudness.mp4');
  const plan = planStitch(options, probes, { ...planCtx, outputFile });
  let measured;
  try {
    await writePlanFiles(plan.files);
    measured = await measureCut(plan.args, path.basename(options.output), pass);
  } finally {
    await removePlanFiles(plan.files);
  }
  return measured ? { ...options, loudness: { ...options.loudness, measured } } : options;
}

/** Runs the planned ffmpeg into `tmpOutput` and checks the result with ffprobe. */
async function encode(
  plan: StitchPlan,
  tmpOutput: string,
  base: string,
  deps: StitchDeps & { env: NodeJS.ProcessEnv; ffmpegPath: string },
): Promise<ProbeResult> {
  const onProgress = deps.onProgress;
  await runFfmpeg(deps.ffmpegPath, plan.args, {
    what: `stitching ${base}`,
    signal: deps.signal,
    onProgress: onProgress
      ? (p) => {
          const fraction = p.done
            ? 1
            : Math.min(
                1,
                plan.expectedDurationSec > 0 ? p.outTimeSec / plan.expectedDurationSec : 0,
              );
          onProgress(fraction, {
            ...p,
            path: plan.path,
            expectedDurationSec: plan.expectedDurationSec,
          });
        }
      : undefined,
  });
  const result = await probe(tmpOutput, { env: deps.env, signal: deps.signal });
  try {
    // Two frames, plus one AAC frame: the container ends with whichever stream ends last.
    checkVideo(result, {
      expectDurationSec: plan.expectedDurationSec,
      toleranceSec: plan.toleranceSec ?? 2 / plan.fps + 1024 / 44100,
    });
  } catch (cause) {
    throw new MediaError(`the stitched ${base} failed its check: ${(cause as Error).message}`, {
      code: 'stitch_check_failed',
      cause,
      fix: 'report this with the clips that caused it; run with another ffmpeg via FFMPEG_PATH',
    });
  }
  return result;
}
