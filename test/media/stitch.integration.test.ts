import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors.js';
import { detectFeatures, locateTool } from '../../src/media/locate.js';
import { probe } from '../../src/media/probe.js';
import { stitch } from '../../src/media/stitch.js';
import type { StitchOptions } from '../../src/media/stitch-plan.js';
import { writeFile } from 'node:fs/promises';
import { BUNDLED_FFMPEG, hasBundledFfmpeg, makeClip, tempDir, xfadeFfmpeg } from './helpers.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let a = '';
let b = '';
let c = '';
let tall = '';
let song = '';
const FRAME = 1 / 24;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  [a, b, c, tall, song] = await Promise.all([
    makeClip(path.join(dir, 'a.mp4'), { seconds: 1, tone: 440 }),
    makeClip(path.join(dir, `b it's 橘猫 é.mp4`), { seconds: 1.5, tone: 660 }),
    makeClip(path.join(dir, 'c [x], y; z.mp4'), { seconds: 1, tone: 880 }),
    makeClip(path.join(dir, 'tall.mp4'), { width: 90, height: 160, seconds: 1, audio: false }),
    makeClip(path.join(dir, 'song.mp4'), { seconds: 5, tone: 220, width: 32, height: 32 }),
  ]);
});
afterAll(() => cleanup());

function options(files: string[], name: string, over: Partial<StitchOptions> = {}): StitchOptions {
  return {
    output: path.join(dir, name),
    clips: files.map((file, i) => ({ file, id: `s${i + 1}` })),
    transition: { type: 'cut', duration: 0 },
    audio: 'keep',
    size: { width: 160, height: 90 },
    fit: 'pad',
    crf: 35,
    preset: 'ultrafast',
    ...over,
  };
}

async function leftovers(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.includes('.tmp') || f.includes('.concat.'));
}

describe('stitch with real ffmpeg', () => {
  it('copies streams when the clips match, whatever their file names', async () => {
    const fractions: number[] = [];
    const result = await stitch(options([a, b, c], 'copy out.mp4'), {
      onProgress: (f) => fractions.push(f),
    });
    expect(result.path).toBe('copy');
    expect(result.warnings).toEqual([]);
    const info = await probe(result.output);
    expect(info.video?.width).toBe(160);
    expect(info.video?.height).toBe(90);
    expect(info.audio?.codec).toBe('aac');
    expect(Math.abs(info.durationSec - 3.5)).toBeLessThanOrEqual(2 * FRAME + 0.03);
    expect(fractions.at(-1)).toBe(1);
    expect(await leftovers()).toEqual([]);
  });

  it('normalises mixed ratios and missing audio with an xfade chain (modern ffmpeg)', async (ctx) => {
    const modern = await xfadeFfmpeg();
    if ('reason' in modern) return ctx.skip(modern.reason);
    const o = options([a, tall, b], 'fade.mp4', { transition: { type: 'fade', duration: 0.5 } });
    o.clips[2]!.trim = { start: 0.25 };
    o.clips[1]!.transition = { type: 'wipeleft', duration: 0.25 };
    const result = await stitch(o, { env: { ...process.env, FFMPEG_PATH: modern.path } });
    expect(result.path).toBe('normalise');
    expect(result.warnings).toEqual([]);
    const info = await probe(result.output);
    expect(info.video).toMatchObject({
      width: 160,
      height: 90,
      pixFmt: 'yuv420p',
      codec: 'h264',
    });
    // 1 + 1 + (1.5 - 0.25) - 0.5 - 0.25
    expect(result.expectedDurationSec).toBeCloseTo(2.5, 6);
    expect(Math.abs(info.video!.durationSec! - 2.5)).toBeLessThanOrEqual(2 * FRAME);
    expect(Math.abs(info.audio!.durationSec! - 2.5)).toBeLessThanOrEqual(2 * FRAME);
  });

  it('falls back to hard cuts on an ffmpeg without xfade, and says so', async () => {
    let env = process.env;
    let features;
    if (hasBundledFfmpeg) {
      env = { ...process.env, FFMPEG_PATH: BUNDLED_FFMPEG };
    } else {
      // No bundled build here: pretend the one we have lacks xfade.
      const real = await detectFeatures(locateTool('ffmpeg'));
      features = { ...real, filters: new Set([...real.filters].filter((f) => f !== 'xfade')) };
    }
    const result = await stitch(
      options([a, tall, b], 'fallback.mp4', { transition: { type: 'fade', duration: 0.5 } }),
      { env, features },
    );
    expect(result.path).toBe('normalise');
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/no xfade filter/);
    expect(result.warnings[0]).toMatch(
      /install ffmpeg >= 4\.3 \(Debian: apt-get install ffmpeg\) or set FFMPEG_PATH/,
    );
    const info = await probe(result.output);
    expect(Math.abs(info.durationSec - 3.5)).toBeLessThanOrEqual(2 * FRAME + 0.03);
    expect(Math.abs(info.audio!.durationSec! - 3.5)).toBeLessThanOrEqual(2 * FRAME + 0.03);
    expect(info.video).toMatchObject({ width: 160, height: 90 });
  });

  it('trims, crops to another size and mixes a soundtrack under the clips', async () => {
    const o = options([a, tall, b], 'mix.mp4', {
      size: { width: 96, height: 96 },
      fit: 'crop',
      soundtrack: { file: song, volume: 0.3, fadeOut: 0.5, mode: 'mix' },
    });
    o.clips[2]!.trim = { start: 0.5 };
    const result = await stitch(o);
    const info = await probe(result.output);
    expect(info.video).toMatchObject({ width: 96, height: 96 });
    expect(Math.abs(info.video!.durationSec! - 3)).toBeLessThanOrEqual(2 * FRAME);
    expect(Math.abs(info.audio!.durationSec! - 3)).toBeLessThanOrEqual(2 * FRAME + 0.03);
  });

  it('mutes the clips, or replaces their audio with a soundtrack', async () => {
    const muted = await stitch(options([a, b], 'muted.mp4', { audio: 'mute' }));
    expect((await probe(muted.output)).audio).toBeUndefined();
    const replaced = await stitch(
      options([a, tall], 'replaced.mp4', {
        audio: 'mute',
        soundtrack: { file: song, volume: 1, fadeOut: 0, mode: 'replace' },
      }),
    );
    const info = await probe(replaced.output);
    expect(Math.abs(info.audio!.durationSec! - 2)).toBeLessThanOrEqual(2 * FRAME + 0.03);
  });

  it('fails with ffmpeg or ffprobe stderr and leaves no temporary file', async () => {
    const broken = path.join(dir, 'broken.mp4');
    await writeFile(broken, 'not a video');
    const err = await stitch(options([a, broken], 'broken-out.mp4')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('probe_failed');
    expect((err as MediaError).stderrTail).toBeTruthy();

    const missingSong = options([a, b], 'no-song.mp4', {
      soundtrack: { file: path.join(dir, 'missing.mp3'), volume: 1, fadeOut: 0, mode: 'replace' },
    });
    const ffErr = await stitch(missingSong).catch((e: unknown) => e);
    expect(ffErr).toBeInstanceOf(MediaError);
    expect((ffErr as MediaError).code).toBe('ffmpeg_failed');
    expect((ffErr as MediaError).stderrTail).toMatch(/missing\.mp3/);
    expect(await leftovers()).toEqual([]);
    expect((await readdir(dir)).filter((f) => f.startsWith('no-song'))).toEqual([]);
  });
});
