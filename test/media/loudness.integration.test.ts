import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import { stitch } from '../../src/media/stitch.js';
import type { StitchOptions } from '../../src/media/stitch-plan.js';
import { makeClip, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('shotlist-loudness-'));
});
afterAll(() => cleanup());

function options(files: string[], name: string, over: Partial<StitchOptions> = {}): StitchOptions {
  return {
    output: path.join(dir, name),
    clips: files.map((file, i) => ({ file, id: `c${i}` })),
    transition: { type: 'cut', duration: 0 },
    audio: 'keep',
    size: { width: 160, height: 90 },
    fit: 'pad',
    crf: 30,
    preset: 'ultrafast',
    loudness: { target: -16, truePeak: -1.5 },
    ...over,
  };
}

describe('loudness on tiny synthetic clips (real ffmpeg)', () => {
  it('reaches the target in two passes and reports what ebur128 measured in the file', async () => {
    const a = await makeClip(path.join(dir, 'a.mp4'), { seconds: 2 });
    const made = await stitch(options([a, a], 'loud.mp4'));
    expect(made.loudness).toBeDefined();
    expect(Math.abs(made.loudness!.integrated - -16)).toBeLessThanOrEqual(1);
    expect(made.loudness!.true_peak).toBeLessThanOrEqual(-1.5);
  });

  it('a cut without audio is still made, with a warning and no loudness', async () => {
    const mute = await makeClip(path.join(dir, 'mute.mp4'), { audio: false });
    const made = await stitch(options([mute, mute], 'mute.mp4'));
    expect(made.warnings).toContain('the cut has no audio, so its loudness was not normalised');
    expect(made.loudness).toBeUndefined();
    expect((await probe(made.output)).audio).toBeUndefined();
  });
});
