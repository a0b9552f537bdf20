import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * The static binary of an optional `@ffmpeg-installer`/`@ffprobe-installer` package (the
 * product's own fallback builds), or undefined when the package is missing or its binary does
 * not run here.
 */
function staticBuild(pkg: string): string | undefined {
  try {
    const file = (createRequire(import.meta.url)(pkg) as { path: string }).path;
    execFileSync(file, ['-hide_banner', '-version'], { stdio: 'ignore', timeout: 30_000 });
    return file;
  } catch {
    return undefined;
  }
}

/**
 * The environment the test runs give every test and child CLI: FFPROBE_PATH set to the
 * static ffprobe of the optional `@ffprobe-installer/ffprobe` package. A distro ffprobe loads
 * about 200 shared libraries before it reads a byte (0.18 CPU s a start, against 0.02 for the
 * static build), and a full test run probes over two thousand clips. Nothing is set when
 * FFPROBE_PATH is already set (the tests then run on that build) or when the package is
 * missing or its binary does not run here (then the PATH's).
 */
export function fastProbeEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.FFPROBE_PATH) return {};
  const file = staticBuild('@ffprobe-installer/ffprobe');
  return file ? { FFPROBE_PATH: file } : {};
}

/**
 * The same for ffmpeg, for the test files whose subject is not the picture (the run, the
 * money, the folder, the team): there ffmpeg only encodes the simulator's clips, takes
 * thumbnails and frames and joins clips by stream copy, which every ffmpeg does alike, and a
 * distro ffmpeg spends 0.2 CPU s loading its libraries on each of a thousand starts. The files
 * about the picture (transitions, captions, loudness, exports: {@link PICTURE_FILES}) run on
 * the PATH's ffmpeg, the newest build the machine has. Nothing is set when FFMPEG_PATH is
 * already set or the package's binary does not run here.
 */
export function fastFfmpegEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.FFMPEG_PATH) return {};
  const file = staticBuild('@ffmpeg-installer/ffmpeg');
  return file ? { FFMPEG_PATH: file } : {};
}

/** Both static builds (see {@link fastProbeEnv} and {@link fastFfmpegEnv}). */
export function fastToolEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return { ...fastProbeEnv(env), ...fastFfmpegEnv(env) };
}

/**
 * The test files whose subject is what ffmpeg draws or mixes (filters that came in later
 * ffmpeg versions, such as xfade, are detected, not assumed): they run on the machine's own
 * ffmpeg (FFMPEG_PATH, else the PATH's), never on the static build the other files get.
 */
export const PICTURE_FILES = [
  'test/media/**/*.test.ts',
  'test/report/**/*.test.ts',
  'test/e2e/captions.test.ts',
  'test/e2e/exports.test.ts',
  'test/e2e/finals.test.ts',
  'test/e2e/finish-seams.test.ts',
  'test/e2e/preview.test.ts',
  'test/e2e/stitch.test.ts',
  'test/e2e/voiceover.test.ts',
];
