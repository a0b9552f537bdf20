import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFeatures, locateTool } from '../../src/media/locate.js';
import { probe } from '../../src/media/probe.js';
import {
  contactSheet,
  contactSheetGraph,
  escapeFilterValue,
  thumbnail,
  thumbnails,
} from '../../src/media/thumbnail.js';
import { BUNDLED_FFMPEG, hasBundledFfmpeg, makeClip, tempDir } from './helpers.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let wide = '';
let tall = '';

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  [wide, tall] = await Promise.all([
    makeClip(path.join(dir, 'wide clip.mp4'), { width: 320, height: 180, seconds: 1 }),
    makeClip(path.join(dir, `tall 'é'.mp4`), { width: 90, height: 160, seconds: 1, audio: false }),
  ]);
});
afterAll(() => cleanup());

describe('filter value escaping', () => {
  it('quotes for the filter and escapes for the graph', () => {
    expect(escapeFilterValue('s01')).toBe(`\\'s01\\'`);
    expect(escapeFilterValue(`it's`)).toBe(`\\'it\\'\\\\\\'\\'s\\'`);
    expect(escapeFilterValue('a,b;[c]')).toBe(`\\'a\\,b\\;\\[c\\]\\'`);
  });
});

describe('contact sheet graph', () => {
  it('pads an incomplete last row with blank cells and stacks rows', () => {
    const g = contactSheetGraph(5, ['a', 'b', 'c', 'd', 'e'], {
      columns: 2,
      cellWidth: 320,
      cellHeight: 180,
      fontFile: '/f.ttf',
    });
    expect(g).toContain('color=c=0x202020:s=320x204:r=1:d=1,format=yuv420p[c5]');
    expect(g).toContain('[c0][c1]hstack=inputs=2[r0]');
    expect(g).toContain('[c4][c5]hstack=inputs=2[r2]');
    expect(g).toContain('[r0][r1][r2]vstack=inputs=3[sheet]');
    expect(g).toContain('drawtext=fontfile=');
    expect(g.match(/drawtext/g)).toHaveLength(5);
  });
  it('needs no stacking for a single image, and no drawtext without labels', () => {
    const g = contactSheetGraph(1, null, { columns: 4, cellWidth: 320, cellHeight: 180 });
    expect(g).not.toMatch(/hstack|vstack|drawtext/);
    expect(g).toContain('[c0]null[sheet]');
  });
});

describe('thumbnails and contact sheets with real ffmpeg', () => {
  it('takes the middle frame, 320 wide, keeping the aspect', async () => {
    const outWide = await thumbnail(wide, path.join(dir, 'wide.jpg'));
    const outTall = await thumbnail(tall, path.join(dir, 'tall.jpg'), { width: 90, atSec: 0.2 });
    expect((await probe(outWide)).video).toMatchObject({ width: 320, height: 180 });
    expect((await probe(outTall)).video).toMatchObject({ width: 90, height: 160 });
  });

  it('makes a labelled grid on the default ffmpeg and on the bundled old one', async () => {
    const thumb = await thumbnail(wide, path.join(dir, 'w.jpg'));
    const thumbTall = await thumbnail(tall, path.join(dir, 't.jpg'));
    const items = [
      { image: thumb, label: 's01-garden' },
      { image: thumbTall, label: `it's: a, [b]; 100% \\ x` },
      { image: thumb, label: '橘猫' },
    ];
    const envs: NodeJS.ProcessEnv[] = [process.env];
    if (hasBundledFfmpeg) envs.push({ ...process.env, FFMPEG_PATH: BUNDLED_FFMPEG });
    for (const [n, env] of envs.entries()) {
      const out = path.join(dir, `sheet-${n}.jpg`);
      const result = await contactSheet(items, out, { columns: 2, env });
      expect(result.labelled, result.warnings.join()).toBe(true);
      expect(result.warnings).toEqual([]);
      expect((await probe(out)).video).toMatchObject({ width: 640, height: 2 * 204 });
    }
  });

  it('leaves labels out, and says why, when ffmpeg has no drawtext', async () => {
    const real = await detectFeatures(locateTool('ffmpeg'));
    const features = {
      ...real,
      filters: new Set([...real.filters].filter((f) => f !== 'drawtext')),
    };
    const thumb = await thumbnail(wide, path.join(dir, 'x.jpg'));
    const out = path.join(dir, 'unlabelled.jpg');
    const result = await contactSheet([{ image: thumb, label: 's01' }], out, { features });
    expect(result.labelled).toBe(false);
    expect(result.warnings[0]).toMatch(/no drawtext filter.*no labels.*apt-get install ffmpeg/);
    expect((await probe(out)).video).toMatchObject({ width: 320, height: 180 });
  });

  it('takes many thumbnails with one ffmpeg per batch; a bad clip costs only its own', async () => {
    const real = await detectFeatures(locateTool('ffmpeg'));
    // An ffmpeg that notes each start, then is the real one.
    const counting = path.join(dir, 'counting-ffmpeg');
    await writeFile(counting, `#!/bin/sh\necho x >> "${dir}/starts"\nexec "${real.path}" "$@"\n`, {
      mode: 0o755,
    });
    const features = { ...real, path: counting };
    const starts = async () =>
      (await readFile(path.join(dir, 'starts'), 'utf8').catch(() => '')).split('\n').length - 1;
    const out = path.join(dir, 'many');
    await mkdir(out);
    const clips = Array.from({ length: 10 }, (_, i) => (i % 2 ? tall : wide));
    const jobs = clips.map((clip, i) => ({ clip, out: path.join(out, `${i}.jpg`) }));
    expect(await thumbnails(jobs, { features })).toEqual(jobs.map(() => undefined));
    expect(await starts()).toBe(2); // 8 + 2
    for (const [i, job] of jobs.entries()) {
      expect((await probe(job.out)).video).toMatchObject(
        i % 2 ? { width: 320, height: 568 } : { width: 320, height: 180 },
      );
    }
    // Each picture is the one thumbnail() takes alone.
    const alone = await thumbnail(wide, path.join(dir, 'alone.jpg'));
    expect(await readFile(jobs[0]!.out)).toEqual(await readFile(alone));

    const broken = path.join(dir, 'broken.mp4');
    await writeFile(broken, 'not a video');
    const mixed = [wide, broken, tall].map((clip, i) => ({
      clip,
      out: path.join(out, `mixed-${i}.jpg`),
    }));
    const results = await thumbnails(mixed, { features });
    expect(results[0]).toBeUndefined();
    expect(results[1]?.message).toMatch(/broken\.mp4/);
    expect(results[2]).toBeUndefined();
    expect((await probe(mixed[2]!.out)).video).toMatchObject({ width: 320, height: 568 });
    // Nothing half-written is left behind.
    expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
