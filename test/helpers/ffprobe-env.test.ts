import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { locateTool } from '../../src/media/locate.js';
import { fastProbeEnv } from './ffprobe-env.js';

const bundled = (() => {
  try {
    return (createRequire(import.meta.url)('@ffprobe-installer/ffprobe') as { path: string }).path;
  } catch {
    return undefined;
  }
})();
const installed = bundled !== undefined && existsSync(bundled);

describe('the ffprobe of the test runs', () => {
  it.runIf(installed)('is the static bundled build, for tests and the CLIs they start', () => {
    expect(fastProbeEnv({})).toEqual({ FFPROBE_PATH: bundled });
    // The test run's own environment carries it (unless it was set before the run started),
    // so the product, in process or as a child CLI, finds it first.
    if (process.env.FFPROBE_PATH === bundled) {
      expect(locateTool('ffprobe')).toMatchObject({ path: bundled, source: 'env' });
    } else {
      expect(process.env.FFPROBE_PATH, 'set before the run started').toBeTruthy();
    }
  });

  it('leaves an FFPROBE_PATH set before the run alone', () => {
    expect(fastProbeEnv({ FFPROBE_PATH: '/opt/ffmpeg/ffprobe' })).toEqual({});
  });
});
