import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import {
  HIGH_BAND as MUSIC,
  LOW_BAND as VOICE,
  colourAt,
  lavfi,
  level,
} from '../helpers/measure.js';
import { readReport } from './run-helpers.js';

const tmp = tempDir('shotlist-voiceover-e2e-');
afterAll(() => tmp.cleanup());
const isMagenta = ([r, g, b]: number[]) => r! > 200 && g! < 60 && b! > 200;

describe('voice-over, ducking, soundtrack loop and logo through run --simulate (built bin)', () => {
  const out = path.join(tmp.dir, 'out');
  let stdout = '';
  beforeAll(async () => {
    await lavfi(path.join(tmp.dir, 'music.wav'), 'sine=frequency=2000:duration=1', '-ac', '2');
    await lavfi(path.join(tmp.dir, 'voice.wav'), 'sine=frequency=200:duration=1.5', '-ac', '2');
    await lavfi(path.join(tmp.dir, 'logo.png'), 'color=c=0xff00ff:s=64x32', '-frames:v', '1');
    // Two variants alike but for the layers: `plain` is the same cut without voice or logo.
    writeFileSync(
      path.join(tmp.dir, 'cut.yaml'),
      `version: 1
name: layers
defaults: { duration: 4, ratio: "16:9", audio: false }
variants: [{ name: voiced }, { name: plain }]
shots:
  - { id: v1, prompt: "a quiet street at dawn" }
  - id: v2
    prompt: "the same street at noon"
    voiceover: { file: voice.wav, offset: 1, variants: [voiced] }
stitch:
  size: 320x180
  soundtrack: { file: music.wav, volume: 0.5, fit: loop, fade_out: 0 }
  logo: { file: logo.png, corner: bottom-left, width: 0.2, margin: 0.05, start: 2, end: 5, variants: [voiced] }
`,
    );
    const r = await shotlist(['run', 'cut.yaml', '--simulate', '--yes', '--out', out], {
      cwd: tmp.dir,
    });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    stdout = r.stdout;
  });

  it('places the voice-over at its offset in its shot and ducks the music under it by >= 8 dB', async () => {
    const report = readReport(out);
    expect(report.outputs?.map((o) => [o.file, o.path]).sort()).toEqual([
      ['final.plain.mp4', 'normalise'],
      ['final.voiced.mp4', 'normalise'],
    ]);
    expect(stdout).toContain('final.voiced.mp4');
    const voiced = path.join(out, 'final.voiced.mp4');
    const plain = path.join(out, 'final.plain.mp4');
    for (const f of [voiced, plain]) {
      const info = await probe(f);
      expect(info.video).toMatchObject({ width: 320, height: 180 });
      expect(info.audio).toBeDefined();
      expect(Math.abs(info.durationSec - 8)).toBeLessThan(0.2);
    }
    // Shot v2 starts at 4 s in the cut: its voice-over, offset 1, at 5 s (to 6.5 s).
    const voiceBefore = await level(voiced, 4.9, 4.97, VOICE);
    const voiceAfter = await level(voiced, 5.03, 5.1, VOICE);
    expect(voiceBefore).toBeLessThan(-50);
    expect(voiceAfter).toBeGreaterThan(-35);
    expect(await level(plain, 5.3, 6.3, VOICE)).toBeLessThan(-50);
    const ducked = await level(voiced, 5.3, 6.3, MUSIC);
    const open = await level(plain, 5.3, 6.3, MUSIC);
    expect(open).toBeGreaterThan(-40);
    expect(open - ducked).toBeGreaterThanOrEqual(8);
    // Away from the voice the music is back to its own level.
    expect(Math.abs((await level(voiced, 2.3, 3.3, MUSIC)) - open)).toBeLessThan(1.5);
  });

  it('loops a 1 s soundtrack to the end of the 8 s cut', async () => {
    const end = await level(path.join(out, 'final.plain.mp4'), 7.2, 7.9, MUSIC);
    expect(end).toBeGreaterThan(-40);
  });

  it('draws the logo in its corner during its range only, and only in its variant', async () => {
    const voiced = path.join(out, 'final.voiced.mp4');
    // width 0.2 of 320 = 64 px (32 high), margin 0.05 of 320 = 16 px: x 16-80, y 132-164.
    expect(isMagenta(await colourAt(voiced, 3, 48, 148))).toBe(true);
    expect(isMagenta(await colourAt(voiced, 4.5, 48, 148))).toBe(true);
    expect(isMagenta(await colourAt(voiced, 1, 48, 148))).toBe(false);
    expect(isMagenta(await colourAt(voiced, 6, 48, 148))).toBe(false);
    for (const [x, y] of [
      [48, 32],
      [272, 32],
      [272, 148],
    ] as const) {
      expect(isMagenta(await colourAt(voiced, 3, x, y))).toBe(false);
    }
    expect(isMagenta(await colourAt(path.join(out, 'final.plain.mp4'), 3, 48, 148))).toBe(false);
  });
});

describe('validate measures voice-overs and the soundtrack (built bin)', () => {
  it('an over-long voice-over is an error (run refuses it too) and a short soundtrack a warning, each at file:line:col', async () => {
    await lavfi(path.join(tmp.dir, 'short.wav'), 'sine=frequency=2000:duration=1', '-ac', '2');
    await lavfi(path.join(tmp.dir, 'long.wav'), 'sine=frequency=200:duration=3.5', '-ac', '2');
    writeFileSync(
      path.join(tmp.dir, 'check.yaml'),
      `version: 1
name: check
defaults: { duration: 4 }
shots:
  - { id: c1, prompt: "first", trim: { start: 1 } }
  - id: c2
    prompt: "second"
    voiceover: { file: long.wav, offset: 1 }
  - { id: c3, prompt: "third", voiceover: long.wav }
stitch:
  soundtrack: { file: short.wav }
`,
    );
    const r = await shotlist(['validate', 'check.yaml'], { cwd: tmp.dir });
    expect(r.exitCode).toBe(2);
    // c2: 3.5 s from offset 1 does not fit 4 s; c3's 3.5 s from 0 does.
    expect(r.stderr).toMatch(
      /check\.yaml:8:24: error: the voice-over of shot c2 lasts 3\.5 s from offset 1, longer than the shot's 4 s/,
    );
    expect(r.stderr).not.toMatch(/voice-over of shot c3/);
    // The cut: 3 s of c1 after its trim, then 4 s and 4 s.
    expect(r.stderr).toMatch(
      /check\.yaml:11:23: warning: the soundtrack lasts 1 s but the cut 11 s[^\n]*\n\s+fix: set soundtrack fit: loop/,
    );
    // run refuses the same manifest before anything is sent.
    const out = path.join(tmp.dir, 'check-out');
    const run = await shotlist(['run', 'check.yaml', '--simulate', '--yes', '--out', out], {
      cwd: tmp.dir,
    });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/check\.yaml:8:24: error: the voice-over of shot c2/);
    expect(existsSync(path.join(out, 'clips'))).toBe(false);
    expect(existsSync(path.join(out, 'journal.ndjson'))).toBe(false);

    const sub = path.join(tmp.dir, 'sub');
    mkdirSync(sub);
    writeFileSync(
      path.join(sub, 'check.yaml'),
      `version: 1
name: check
shots:
  - { id: c1, prompt: "first", voiceover: missing.wav }
stitch:
  logo: [{ file: ../outside.png }]
`,
    );
    writeFileSync(path.join(tmp.dir, 'outside.png'), 'not read');
    const missing = await shotlist(['validate', 'check.yaml'], { cwd: sub });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(
      /check\.yaml:4:43: error: voice-over file "missing\.wav" does not exist/,
    );
    expect(missing.stderr).toMatch(
      /check\.yaml:6:18: error: logo file "\.\.\/outside\.png" is outside the manifest's folder/,
    );
  });
});
