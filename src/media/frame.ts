/** Cutting one frame of a clip at full resolution, as a lossless PNG: the next shot starts on it. */
import path from 'node:path';
import type { FramePick } from '../manifest/frames.js';
import { detectFeatures, locateTool } from './locate.js';
import { runFfmpeg } from './run-ffmpeg.js';
import { FFMPEG_HEAD } from './ffmpeg-common.js';
import { writeAtomically, type MediaDeps } from './thumbnail.js';

/** The input arguments that make ffmpeg's last written image the frame asked for. */
function inputArgs(clip: string, pick: FramePick): string[] {
  // From a second before the end every decoded frame overwrites the image: the last one stays.
  if (pick === 'last') return ['-sseof', '-1', '-i', clip];
  if (pick === 'first') return ['-i', clip, '-frames:v', '1'];
  return ['-ss', pick.toFixed(3), '-i', clip, '-frames:v', '1'];
}

/**
 * Writes one frame of `clip` (its first, its last, or the one shown at a time in seconds) to
 * `outPng` at the clip's own size, in RGB without loss. Written under a temporary name, then
 * renamed; throws a MediaError when ffmpeg fails or writes nothing (a time past the end).
 */
export async function extractFrame(
  clip: string,
  pick: FramePick,
  outPng: string,
  opts: MediaDeps = {},
): Promise<string> {
  const features =
    opts.features ??
    (await detectFeatures(locateTool('ffmpeg', opts.env ?? process.env), opts.env ?? process.env));
  const what = `cutting the ${typeof pick === 'number' ? `frame at ${pick} s` : `${pick} frame`} of ${path.basename(clip)}`;
  await writeAtomically(
    outPng,
    (tmp) =>
      runFfmpeg(
        features.path,
        [
          ...FFMPEG_HEAD,
          ...inputArgs(clip, pick),
          '-an',
          '-pix_fmt',
          'rgb24',
          '-f',
          'image2',
          '-c:v',
          'png',
          '-update',
          '1',
          tmp,
        ],
        { what, signal: opts.signal, env: opts.env },
      ),
    what,
  );
  return outPng;
}
