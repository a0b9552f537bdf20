import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Collector } from '../../src/manifest/collector.js';
import { checkManifest } from '../../src/manifest/load.js';
import { checkAudioLengths, cutLength, namedAudio } from '../../src/manifest/voice-rules.js';

function load(text: string) {
  const result = checkManifest(text, 'm.yaml');
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.loaded!;
}

function lengthsCheck(text: string, lengths: Record<string, number>) {
  const loaded = load(text);
  const out = new Collector('m.yaml');
  out.source = loaded.source;
  checkAudioLengths(loaded.manifest, '/m', new Map(Object.entries(lengths)), out);
  return out.sorted();
}

const MANIFEST = `version: 1
name: t
defaults: { duration: 5 }
variants: [{ name: wide }, { name: short, duration: 4 }]
shots:
  - { id: a, prompt: "one", trim: { start: 1 }, transition: { type: fade, duration: 0.5 } }
  - { id: b, prompt: "two", voiceover: { file: v.wav, offset: 1 } }
stitch:
  soundtrack: { file: music.wav }
`;

describe('the cut and the audio lengths validate measures', () => {
  it('computes the cut from kept lengths and transitions, per variant', () => {
    const { manifest } = load(MANIFEST);
    expect(cutLength(manifest, 0)).toBeCloseTo(4 + 5 - 0.5);
    expect(cutLength(manifest, 1)).toBeCloseTo(3 + 4 - 0.5);
    expect(namedAudio(manifest, '/m').map((a) => [a.file, a.what])).toEqual([
      ['/m/music.wav', 'soundtrack'],
      ['/m/v.wav', 'voice-over'],
    ]);
  });

  it('errs on a voice-over past its shot in any variant, warns of a soundtrack shorter than the cut', () => {
    // 3.5 s from offset 1 fits 5 s (wide) but not 4 s (short).
    const d = lengthsCheck(MANIFEST, { '/m/v.wav': 3.5, '/m/music.wav': 8 });
    expect(d.map((x) => [x.severity, x.line, x.col])).toEqual([
      ['error', 7, 48],
      ['warning', 9, 23],
    ]);
    expect(d[0]!.message).toMatch(
      /shot b lasts 3\.5 s from offset 1, longer than the shot's 4 s in variant short/,
    );
    expect(d[1]!.message).toMatch(/lasts 8 s but the cut 8\.5 s/);
    expect(lengthsCheck(MANIFEST, { '/m/v.wav': 3, '/m/music.wav': 8.5 })).toEqual([]);
    // Unmeasured files: nothing to say.
    expect(lengthsCheck(MANIFEST, {})).toEqual([]);
    // loop never runs short; stretch_end reaches 1/0.8 of the track.
    expect(
      lengthsCheck(MANIFEST.replace('music.wav }', 'music.wav, fit: loop }'), {
        '/m/music.wav': 1,
      }),
    ).toEqual([]);
    const stretch = MANIFEST.replace('music.wav }', 'music.wav, fit: stretch_end }');
    expect(lengthsCheck(stretch, { '/m/music.wav': 7 })).toEqual([]);
    expect(lengthsCheck(stretch, { '/m/music.wav': 6 })[0]!.fix).toMatch(/at most 20%/);
    // A cut-wide voice-over running past the shortest cut it plays in (7.5 s in short) is cut off.
    const cutVoice = MANIFEST.replace(
      'stitch:\n',
      'stitch:\n  voiceover: { file: n.wav, offset: 2 }\n',
    );
    const [late] = lengthsCheck(cutVoice, { '/m/n.wav': 6 });
    expect([late!.severity, late!.line, late!.message]).toEqual([
      'warning',
      9,
      'the voice-over lasts 6 s from 2 s but the cut 6.5 s: its last 1.5 s would be cut off',
    ]);
    expect(lengthsCheck(cutVoice, { '/m/n.wav': 4.5 })).toEqual([]);
  });
});

describe('validate on the layer files and their settings', () => {
  it('reports a logo at x without y, an end before its start and unknown variants, each at its key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-layers-'));
    try {
      writeFileSync(path.join(dir, 'logo.png'), 'png');
      writeFileSync(path.join(dir, 'v.wav'), 'wav');
      const text = `version: 1
name: t
variants: [{ name: wide }]
shots:
  - { id: a, prompt: "one", voiceover: { file: v.wav, variants: [tall] } }
stitch:
  logo:
    - { file: logo.png, x: 0.5 }
    - { file: logo.png, start: 3, end: 2, variants: [wide] }
`;
      const d = checkManifest(text, 'm.yaml', { dir }).diagnostics;
      expect(d.map((x) => [x.line, x.col, x.message])).toEqual([
        [5, 66, 'variants names "tall", which is not a variant of this manifest'],
        [8, 28, 'a logo placed at a point needs both x and y'],
        [9, 40, 'logo end 2 is not after start 3'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the layer files check beside the schema errors', () => {
  it('a manifest without shots, read from a folder, gets its schema error (nothing throws)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-voice-noshots-'));
    try {
      const result = checkManifest('version: 1\nname: bad\n', 'm.yaml', { dir });
      expect(result.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
        expect.stringMatching(/^1:1 .*missing.*"shots"/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
