/**
 * The loudness passes around a stitch: the first measures the cut as planned (its output thrown
 * away), and after the file is written ebur128 measures what it really holds.
 */
import { runFfmpegText } from './run-ffmpeg.js';
import {
  ebur128Args,
  measurePassArgs,
  parseEbur128Summary,
  parseLoudnormJson,
  type LoudnormMeasured,
  type MeasuredLoudness,
} from './loudness.js';

export interface PassDeps {
  ffmpegPath: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
}

/** Runs the first pass of a planned stitch; undefined when the plan normalises nothing. */
export async function measureCut(
  args: readonly string[],
  what: string,
  deps: PassDeps,
): Promise<LoudnormMeasured | undefined> {
  if (!args.some((a) => a.includes('loudnorm='))) return undefined;
  const stderr = await runFfmpegText(deps.ffmpegPath, measurePassArgs(args), {
    what: `measuring the loudness of ${what}`,
    signal: deps.signal,
    env: deps.env,
  });
  return parseLoudnormJson(stderr, what);
}

/** Measures a written file's integrated loudness, range and true peak with ebur128. */
export async function measureFile(
  file: string,
  what: string,
  deps: PassDeps,
): Promise<MeasuredLoudness | undefined> {
  const stderr = await runFfmpegText(deps.ffmpegPath, ebur128Args(file), {
    what: `measuring the loudness of ${what}`,
    signal: deps.signal,
    env: deps.env,
  });
  return parseEbur128Summary(stderr);
}
