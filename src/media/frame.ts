/** Cutting one frame of a clip at full resolution, as a lossless PNG: the next shot starts on it. */
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FramePick } from '../manifest/frames.js';
import { detectFeatures, locateTool } from './locate.js';
import { runFfmpeg } from './run-ffmpeg.js';
import { FFMPEG_HEAD } from './ffmpeg-common.js';
import { writeAtomically, type MediaDeps } from './thumbnail.js';

/** The input arguments that make ffmpeg write the one frame asked for (all but the last). */
function inputArgs(clip: string, pick: Exclude<FramePick, 'last'>): string[] {
  if (pick === 'first') return ['-i', clip, '-frames:v', '1'];
  return ['-ss', pick.toFixed(3), '-i', clip, '-frames:v', '1'];
}

/** The arguments that write one image in RGB without loss: PNG, or BMP (no compression). */
function imageArgs(format: 'png' | 'bmp', out: string): string[] {
  // BMP keeps its channels as BGR: the same 24 bits of each pixel in the other order.
  const pixels = format === 'png' ? 'rgb24' : 'bgr24';
  return ['-an', '-pix_fmt', pixels, '-f', 'image2', '-c:v', format, '-update', '1', out];
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
  const ffmpeg = (args: string[]) =>
    runFfmpeg(features.path, [...FFMPEG_HEAD, ...args], {
      what,
      signal: opts.signal,
      env: opts.env,
    });
  await writeAtomically(
    outPng,
    async (tmp) => {
      if (pick !== 'last') return ffmpeg([...inputArgs(clip, pick), ...imageArgs('png', tmp)]);
      // The end of a clip is known only once it is decoded: from a second before it, every
      // frame overwrites the image and the last one stays. Written as BMP, which costs nothing
      // to write, then that one frame as PNG: 24 PNGs took five times the CPU of the rest.
      const bmp = `${tmp}.bmp`;
      try {
        await ffmpeg(['-sseof', '-1', '-i', clip, ...imageArgs('bmp', bmp)]);
        if (!(await stat(bmp).catch(() => undefined))?.size) return;
        await ffmpeg(['-i', bmp, ...imageArgs('png', tmp)]);
      } finally {
        await rm(bmp, { force: true });
      }
    },
    what,
  );
  return outPng;
}
