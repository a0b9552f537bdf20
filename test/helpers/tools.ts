import { locateTool } from '../../src/media/locate.js';

/**
 * The ffmpeg and ffprobe the product itself would use (FFMPEG_PATH/FFPROBE_PATH, the PATH,
 * then the bundled npm binaries): tests that make or read media with them run on a machine
 * without a system ffmpeg too.
 */
export const FFMPEG = locateTool('ffmpeg').path;
export const FFPROBE = locateTool('ffprobe').path;
