import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateTool } from '../../src/media/locate.js';
import { fastFfmpegEnv, fastProbeEnv, fastToolEnv } from './tool-env.js';

const installed = (pkg: string) => {
  try {
    const file = (createRequire(import.meta.url)(pkg) as { path: string }).path;
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
};
const probeBuild = installed('@ffprobe-installer/ffprobe');
const ffmpegBuild = installed('@ffmpeg-installer/ffmpeg');
const testFile = path.relative(process.cwd(), import.meta.filename);

describe('the ffmpeg tools of the test runs', () => {
  it.runIf(probeBuild)('ffprobe is the static bundled build, for tests and child CLIs', () => {
    expect(fastProbeEnv({})).toEqual({ FFPROBE_PATH: probeBuild });
    // The test run's own environment carries it (unless it was set before the run started),
    // so the product, in process or as a child CLI, finds it first.
    if (process.env.FFPROBE_PATH === probeBuild) {
      expect(locateTool('ffprobe')).toMatchObject({ path: probeBuild, source: 'env' });
    } else {
      expect(process.env.FFPROBE_PATH, 'set before the run started').toBeTruthy();
    }
  });

  it.runIf(ffmpegBuild)('ffmpeg is the static build in the files not about the picture', () => {
    expect(fastFfmpegEnv({})).toEqual({ FFMPEG_PATH: ffmpegBuild });
    expect(fastToolEnv({})).toEqual({ FFMPEG_PATH: ffmpegBuild, FFPROBE_PATH: probeBuild });
    // This file is not one of the picture files, so its run carries the static build.
    expect(testFile).toBe(path.join('test', 'helpers', 'tool-env.test.ts'));
    if (process.env.FFMPEG_PATH === ffmpegBuild) {
      expect(locateTool('ffmpeg')).toMatchObject({ path: ffmpegBuild, source: 'env' });
    } else {
      expect(process.env.FFMPEG_PATH, 'set before the run started').toBeTruthy();
    }
  });

  it('leaves tools set before the run alone', () => {
    expect(fastProbeEnv({ FFPROBE_PATH: '/opt/ffmpeg/ffprobe' })).toEqual({});
    expect(fastFfmpegEnv({ FFMPEG_PATH: '/opt/ffmpeg/ffmpeg' })).toEqual({});
  });
});
