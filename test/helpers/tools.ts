import { execFileSync } from 'node:child_process';
import { locateTool } from '../../src/media/locate.js';

/**
 * The ffmpeg and ffprobe the product itself would use (FFMPEG_PATH/FFPROBE_PATH, the PATH,
 * then the bundled npm binaries): tests that make or read media with them run on a machine
 * without a system ffmpeg too.
 */
export const FFMPEG = locateTool('ffmpeg').path;
export const FFPROBE = locateTool('ffprobe').path;

/** A one-colour PNG of the given size, made by that ffmpeg. */
export function makeImage(file: string, colour: string, width = 64, height = 36): string {
  execFileSync(FFMPEG, [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `color=c=${colour}:s=${width}x${height}`, '-frames:v', '1', file],
  ]);
  return file;
}
