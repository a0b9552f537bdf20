/**
 * The finishing layers together, where they meet: an image card before the shots shifts the
 * voice-over, the caption cues and the logo's inputs; loudness is measured over the captioned,
 * carded cut; an export carries every layer of its variant. Through the built bin, measured on
 * the output.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { HIGH_BAND, LOW_BAND, colourAt, ebur128, lavfi, level } from '../helpers/measure.js';
import { makeImage } from '../helpers/tools.js';

const tmp = tempDir('shotlist-finish-seams-');
afterAll(() => tmp.cleanup());

const isMagenta = ([r, g, b]: number[]) => r! > 200 && g! < 60 && b! > 200;
const isRed = ([r, g, b]: number[]) => r! > 200 && g! < 60 && b! < 60;

/** The start times (s) of an SRT's cues. */
function cueStarts(file: string): number[] {
  return [...readFileSync(file, 'utf8').matchAll(/(\d\d):(\d\d):(\d\d),(\d\d\d) -->/g)].map(
    (m) => Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000,
  );
}

describe('cards, voice-over, logo, captions, loudness and an export in one cut (built bin)', () => {
  const out = path.join(tmp.dir, 'out');
  const finals = ['final.mp4', 'final.small.mp4'].map((f) => path.join(out, f));
  /** Where a2 starts in the cut: after the 1 s card and a1's clip as rendered. */
  let a2 = 0;
  beforeAll(async () => {
    await lavfi(path.join(tmp.dir, 'music.wav'), 'sine=frequency=2000:duration=12', '-ac', '2');
    await lavfi(path.join(tmp.dir, 'voice.wav'), 'sine=frequency=200:duration=1.5', '-ac', '2');
    makeImage(path.join(tmp.dir, 'logo.png'), '0xff00ff', 64, 32);
    makeImage(path.join(tmp.dir, 'title.png'), '0xff0000', 320, 180);
    // The title card is an image (an input of its own, before the voice-over's and the logo's).
    writeFileSync(
      path.join(tmp.dir, 'cut.yaml'),
      `version: 1
name: seams
defaults: { duration: 4, ratio: "16:9", audio: false }
shots:
  - { id: a1, prompt: "a quiet street at dawn", caption: "Dawn" }
  - id: a2
    prompt: "the same street at noon"
    caption: "Noon"
    voiceover: { file: voice.wav, offset: 1 }
stitch:
  size: 320x180
  soundtrack: { file: music.wav, volume: 0.3, fade_out: 0 }
  cards:
    - { text: "Title", duration: 1, at: start, background: { image: title.png } }
    - { text: "The end", duration: 1, at: end, background: "#202020" }
  logo: { file: logo.png, corner: bottom-left, width: 0.2, margin: 0.05 }
  captions: { burn: true }
  loudness: streaming
  exports: [{ name: small, size: 640x360 }]
`,
    );
    const r = await shotlist(['run', 'cut.yaml', '--simulate', '--yes', '--out', out], {
      cwd: tmp.dir,
    });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    a2 = 1 + (await probe(path.join(out, 'clips', 'a1.mp4'))).video!.durationSec!;
  });

  it('lengthens the cut by its cards in the final and the export alike', async () => {
    for (const [file, width] of [
      [finals[0]!, 320],
      [finals[1]!, 640],
    ] as const) {
      const info = await probe(file);
      expect(info.video?.width).toBe(width);
      expect(Math.abs(info.durationSec - 10)).toBeLessThan(0.15);
    }
  });

  it('starts the voice-over after the card, in the final and the export', async () => {
    // Card 0-1 s, a1 from 1 s, a2 after it: a2's voice-over at offset 1 starts 1 s into a2.
    const at = a2 + 1;
    for (const file of finals) {
      const before = await level(file, at - 0.12, at - 0.02, LOW_BAND);
      const after = await level(file, at + 0.02, at + 0.12, LOW_BAND);
      expect(after - before, file).toBeGreaterThan(15);
    }
  });

  it('times the caption cues after the card', () => {
    const starts = cueStarts(path.join(out, 'final.srt'));
    expect(starts).toHaveLength(2);
    expect(Math.abs(starts[0]! - 1)).toBeLessThan(1 / 24);
    expect(Math.abs(starts[1]! - a2)).toBeLessThan(1 / 24);
  });

  it('draws the title card image and the logo over it, and the logo in the export', async () => {
    expect(isRed(await colourAt(finals[0]!, 0.5, 160, 60))).toBe(true);
    // width 0.2 of 320 = 64x32, margin 16 px: bottom-left at x 16-80, y 132-164.
    expect(isMagenta(await colourAt(finals[0]!, 0.5, 48, 148))).toBe(true);
    expect(isMagenta(await colourAt(finals[0]!, 3, 48, 148))).toBe(true);
    expect(isMagenta(await colourAt(finals[1]!, 3, 96, 296))).toBe(true);
  });

  it('normalises the whole cut to -14 LUFS, music ducked under the voice included', async () => {
    for (const file of finals) {
      const m = await ebur128(file);
      expect(Math.abs(m.i + 14), file).toBeLessThanOrEqual(1);
      expect(m.tp).toBeLessThanOrEqual(-1);
    }
    // The music still ducks under the voice after normalising.
    const open = await level(finals[0]!, 3, 4, HIGH_BAND);
    const ducked = await level(finals[0]!, a2 + 1.2, a2 + 2.2, HIGH_BAND);
    expect(open - ducked).toBeGreaterThanOrEqual(8);
  });
});
