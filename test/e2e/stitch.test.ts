import { copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFeatures, locateTool } from '../../src/media/locate.js';
import { probe } from '../../src/media/probe.js';
import type { RunReport } from '../../src/report/types.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { readReport } from '../e2e/run-helpers.js';

const tmp = tempDir('shotlist-stitch-e2e-');
afterAll(() => tmp.cleanup());

const FRAME = 1 / 24;

function manifest(name: string, body: string): string {
  const file = path.join(tmp.dir, `${name}.yaml`);
  writeFileSync(file, `version: 1\nname: ${name}\n${body}`);
  return file;
}

async function simulate(file: string, ...more: string[]) {
  const out = path.join(tmp.dir, `${path.basename(file, '.yaml')}-out`);
  const r = await shotlist(
    ['run', file, '--simulate', '--sim-latency', '0.2-0.6', '--yes', '--out', out, ...more],
    {
      cwd: tmp.dir,
    },
  );
  expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  return { out, report: readReport(out) as RunReport, stdout: r.stdout };
}

async function meanVolume(file: string): Promise<number> {
  const ffmpeg = locateTool('ffmpeg');
  const r = await execa(
    ffmpeg.path,
    ['-hide_banner', '-i', file, '-af', 'volumedetect', '-f', 'null', '-'],
    {
      reject: false,
    },
  );
  return Number(/mean_volume: (-?[\d.]+) dB/.exec(String(r.stderr))?.[1] ?? -999);
}

describe('stitching at the end of run --simulate (built bin, real ffmpeg)', () => {
  it('copies streams for uniform clips: the duration is the sum, nothing re-encoded', async () => {
    const file = manifest(
      'uniform',
      `defaults: { duration: 4, ratio: "16:9" }
shots:
${[1, 2, 3, 4].map((i) => `  - { id: u${i}, prompt: "uniform clip number ${i} for the copy path" }`).join('\n')}
`,
    );
    const { out, report, stdout } = await simulate(file);
    expect(report.outputs).toHaveLength(1);
    expect(report.outputs[0]).toMatchObject({ file: 'final.mp4', path: 'copy', variant: null });
    expect(stdout).toContain('streams copied (no re-encode)');
    const clips = await Promise.all(report.shots.map((s) => probe(path.join(out, s.file!))));
    const sum = clips.reduce((a, c) => a + c.durationSec, 0);
    const final = await probe(path.join(out, 'final.mp4'));
    expect(Math.abs(final.durationSec - sum)).toBeLessThanOrEqual(2 * FRAME + 0.03);
    expect(final.video).toMatchObject({ width: 864, height: 496, codec: 'h264' });
  });

  it('normalises mixed ratios and audio with fades: output size, audio throughout, expected duration', async () => {
    const features = await detectFeatures(locateTool('ffmpeg'));
    const xfade = features.filters.has('xfade');
    const file = manifest(
      'mixed',
      `defaults: { duration: 4 }
shots:
  - { id: m1, prompt: "mixed wide shot with sound", ratio: "16:9" }
  - { id: m2, prompt: "mixed vertical shot without sound", ratio: "9:16", audio: false }
  - { id: m3, prompt: "mixed square shot with sound", ratio: "1:1" }
stitch:
  size: 1280x720
  transition: { type: fade, duration: 0.5 }
`,
    );
    const { out, report } = await simulate(file);
    const output = report.outputs[0]!;
    expect(output.path).toBe('normalise');
    const clips = await Promise.all(report.shots.map((s) => probe(path.join(out, s.file!))));
    const sum = clips.reduce((a, c) => a + c.durationSec, 0);
    const expected = xfade ? sum - 2 * 0.5 : sum;
    if (!xfade) expect(output.warnings.join(' ')).toMatch(/xfade/);
    const final = await probe(path.join(out, output.file));
    expect(final.video).toMatchObject({ width: 1280, height: 720 });
    expect(Math.abs(final.durationSec - expected)).toBeLessThanOrEqual(2 * FRAME + 0.05);
    expect(final.audio).toBeDefined();
    expect(Math.abs((final.audio!.durationSec ?? 0) - final.durationSec)).toBeLessThanOrEqual(0.1);
  });

  it('makes one output per variant', async () => {
    const file = manifest(
      'variants',
      `defaults: { duration: 4 }
variants:
  - { name: wide, ratio: "16:9" }
  - { name: vertical, ratio: "9:16" }
shots:
  - { id: v1, prompt: "variant shot one on a quiet street" }
  - { id: v2, prompt: "variant shot two on a quiet street" }
`,
    );
    const { out, report } = await simulate(file);
    expect(report.outputs.map((o) => o.file).sort()).toEqual([
      'final.vertical.mp4',
      'final.wide.mp4',
    ]);
    const wide = await probe(path.join(out, 'final.wide.mp4'));
    const vertical = await probe(path.join(out, 'final.vertical.mp4'));
    expect(wide.video).toMatchObject({ width: 864, height: 496 });
    expect(vertical.video).toMatchObject({ width: 496, height: 864 });
  });

  it("lays a soundtrack over silent clips: the output carries the soundtrack's audio", async () => {
    const ffmpeg = locateTool('ffmpeg');
    const music = path.join(tmp.dir, 'music.m4a');
    await execa(ffmpeg.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=20',
      '-c:a',
      'aac',
      music,
    ]);
    const file = manifest(
      'soundtrack',
      `defaults: { duration: 4, audio: false }
shots:
  - { id: t1, prompt: "soundtrack shot one over the sea" }
  - { id: t2, prompt: "soundtrack shot two over the sea" }
stitch:
  soundtrack: { file: music.m4a, mode: replace, fade_out: 1 }
`,
    );
    const { out, report } = await simulate(file);
    const final = await probe(path.join(out, report.outputs[0]!.file));
    expect(final.audio).toBeDefined();
    expect(await meanVolume(path.join(out, report.outputs[0]!.file))).toBeGreaterThan(-40);
    const clip = await probe(path.join(out, report.shots[0]!.file!));
    expect(clip.audio).toBeUndefined();
  });

  it('shotlist stitch remakes the outputs from the rendered clips without sending anything', async () => {
    const file = path.join(tmp.dir, 'uniform.yaml');
    const out = path.join(tmp.dir, 'uniform-out');
    const r = await shotlist(['stitch', file, '--out', out, '--json'], { cwd: tmp.dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.outputs).toHaveLength(1);
    expect(doc.outputs[0]).toMatchObject({ file: 'final.mp4', path: 'copy' });
    expect(doc.skipped).toEqual([]);
  });

  it('shotlist stitch uses only the clips the journal vouches for', async () => {
    const file = path.join(tmp.dir, 'uniform.yaml');
    const out = path.join(tmp.dir, 'uniform-out');
    const before = statSync(path.join(out, 'final.mp4')).mtimeMs;
    // u2's clip replaced by u1's: the file exists, but it is not what was downloaded for u2.
    copyFileSync(path.join(out, 'clips', 'u1.mp4'), path.join(out, 'clips', 'u2.mp4'));
    const r = await shotlist(['stitch', file, '--out', out], { cwd: tmp.dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/not stitched: 1 shot has no clip yet \(u2\)/);
    // The old final no longer matches the clips: moved aside, never left looking current.
    expect(statSync(path.join(out, 'final.stale.mp4')).mtimeMs).toBe(before);
    expect(existsSync(path.join(out, 'final.mp4'))).toBe(false);
  });

  it('shotlist stitch says what to do when nothing was rendered', async () => {
    const file = manifest('nothing', 'shots:\n  - { id: n1, prompt: never rendered }\n');
    const r = await shotlist(['stitch', file, '--out', path.join(tmp.dir, 'empty')], {
      cwd: tmp.dir,
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('render first: shotlist run');
  });
});
