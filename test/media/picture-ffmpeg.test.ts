import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { locateTool } from '../../src/media/locate.js';
import { fastFfmpegEnv } from '../helpers/tool-env.js';

const staticBuild = fastFfmpegEnv({}).FFMPEG_PATH;
const onPath = (() => {
  try {
    return (
      execFileSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
})();

it.runIf(staticBuild && onPath)(
  "the files about the picture run on the machine's own ffmpeg, not the static build the other files get",
  () => {
    // (Fails also when FFMPEG_PATH was set to the static build before the run: then the
    // picture files do not test the machine's ffmpeg, which is what this says.)
    expect(locateTool('ffmpeg').path).not.toBe(staticBuild);
  },
);
