import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CAPTION_STYLE, drawtextFilter, parseSubtitles } from '../../src/media/captions.js';
import { cjkFontFound, findFont, fontCovers } from '../../src/media/fonts.js';
import { locateTool } from '../../src/media/locate.js';
import { stitch } from '../../src/media/stitch.js';
import { makeClip, tempDir } from './helpers.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir('shotlist-captions-');
});
afterAll(() => tmp.cleanup());

/** The pixels (gray) of `text` drawn white on black in a 320x180 frame with `font`. */
async function drawn(text: string, font: string, name: string): Promise<Buffer> {
  const textFile = path.join(tmp.dir, `${name}.txt`);
  writeFileSync(textFile, text);
  const filter = drawtextFilter({
    textFile,
    fontFile: font,
    fontSize: 40,
    color: '#ffffff',
    outline: 0,
    position: 'middle',
    margin: 0,
  });
  const r = await execa(
    locateTool('ffmpeg').path,
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=black:s=320x180:d=1'],
      ...['-vf', `${filter},format=gray`, '-frames:v', '1', '-f', 'rawvideo', '-'],
    ],
    { encoding: 'buffer' },
  );
  return Buffer.from(r.stdout);
}

const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

const lit = (b: Buffer) => b.filter((v) => v > 128).length;

describe('caption fonts and text with real ffmpeg', () => {
  it('draws real CJK glyphs with the font found: different strings differ, and none is the missing-glyph box', async (ctx) => {
    if (!cjkFontFound())
      ctx.skip('no CJK font here: apt-get install fonts-noto-cjk (scripts/setup.sh)');
    const font = findFont(undefined, true);
    const a = await drawn('你好世界', font, 'a');
    const b = await drawn('山川河流', font, 'b');
    // Private-use code points no font has: what a missing glyph looks like in this font.
    const box = await drawn('\u{10FFFD}\u{10FFFD}\u{10FFFD}\u{10FFFD}', font, 'box');
    expect(lit(a)).toBeGreaterThan(200);
    expect(a.equals(b)).toBe(false);
    expect(a.equals(box)).toBe(false);
    expect(b.equals(box)).toBe(false);
    // The measure can tell: a font without CJK draws both strings as missing-glyph boxes.
    const latin = DEJAVU;
    if (existsSync(latin)) {
      const tofuA = await drawn('你好世界', latin, 'ta');
      const tofuB = await drawn('山川河流', latin, 'tb');
      expect(tofuA.equals(tofuB)).toBe(true);
    }
  });

  it("burns captions whose text and paths hold ' : \\ % , [ ] and line breaks", async (ctx) => {
    if (!existsSync(DEJAVU)) ctx.skip(`no ${DEJAVU} here: apt-get install fonts-dejavu-core`);
    const dir = path.join(tmp.dir, "it's: a [dir], 100%");
    mkdirSync(dir);
    const a = await makeClip(path.join(dir, 'a.mp4'), { width: 320, height: 180, seconds: 1 });
    const b = await makeClip(path.join(dir, 'b.mp4'), { width: 320, height: 180, seconds: 1 });
    const font = path.join(dir, "f'o:n,t[1].ttf");
    copyFileSync(DEJAVU, font);
    const text = "it's: 100% \\ [a, b]\nline two";
    const output = path.join(dir, 'out.mp4');
    const result = await stitch({
      output,
      clips: [
        { file: a, id: 'a' },
        { file: b, id: 'b' },
      ],
      transition: { type: 'cut', duration: 0 },
      audio: 'keep',
      size: { width: 320, height: 180 },
      fit: 'pad',
      crf: 30,
      preset: 'ultrafast',
      captions: {
        clips: { a: [{ text }] },
        burn: true,
        style: { ...DEFAULT_CAPTION_STYLE, font },
      },
    });
    expect(result.sidecars).toEqual([path.join(dir, 'out.srt'), path.join(dir, 'out.vtt')]);
    const cues = parseSubtitles(readFileSync(path.join(dir, 'out.srt'), 'utf8'), 'out.srt');
    expect(cues).toEqual([{ start: 0, end: 1, text }]);
    // Nothing of the plan's text files is left behind.
    expect(readdirSync(dir).sort()).toEqual(
      ['a.mp4', 'b.mp4', "f'o:n,t[1].ttf", 'out.mp4', 'out.srt', 'out.vtt'].sort(),
    );
  });

  it('plays an image card and a fading colour card with silence under them, each lengthening the cut', async () => {
    const ffmpeg = locateTool('ffmpeg').path;
    const clip = await makeClip(path.join(tmp.dir, 'card-clip.mp4'), {
      width: 320,
      height: 180,
      seconds: 1,
    });
    const image = path.join(tmp.dir, 'blue.png');
    await execa(ffmpeg, [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0x0000ff:s=64x36'],
      ...['-frames:v', '1', image],
    ]);
    const output = path.join(tmp.dir, 'cards.mp4');
    const result = await stitch({
      output,
      clips: [{ file: clip, id: 'a' }],
      transition: { type: 'cut', duration: 0 },
      audio: 'keep',
      size: { width: 320, height: 180 },
      fit: 'pad',
      crf: 30,
      preset: 'ultrafast',
      cards: [
        {
          text: 'Hi',
          duration: 1,
          at: 'start',
          background: { color: '#ff0000' },
          color: '#ffffff',
          fade: 0.25,
        },
        {
          text: 'End',
          duration: 1,
          at: { after: 'a' },
          background: { image },
          color: '#ffffff',
          fade: 0,
        },
      ],
    });
    expect(Math.abs(result.durationSec - 3)).toBeLessThan(0.1);
    expect(result.probe.audio).toBeDefined();
    const rgb = async (t: number) => {
      const r = await execa(
        ffmpeg,
        [
          ...[
            '-hide_banner',
            '-loglevel',
            'error',
            '-ss',
            String(t),
            '-i',
            output,
            '-frames:v',
            '1',
          ],
          ...['-vf', 'crop=40:20:0:0,scale=1:1,format=rgb24', '-f', 'rawvideo', '-'],
        ],
        { encoding: 'buffer' },
      );
      return [...Buffer.from(r.stdout)];
    };
    const [r0, g0, b0] = await rgb(0.5);
    expect(r0).toBeGreaterThan(180);
    expect(g0! + b0!).toBeLessThan(80);
    // Fading in from black: darker at the card's first frames.
    const [early] = await rgb(0.05);
    expect(early).toBeLessThan(r0! - 60);
    const [r2, g2, b2] = await rgb(2.5);
    expect(b2).toBeGreaterThan(180);
    expect(r2! + g2!).toBeLessThan(80);
    // Silence under the cards, the clip's tone between them.
    const level = async (from: number) => {
      const r = await execa(ffmpeg, [
        ...['-hide_banner', '-ss', String(from), '-t', '0.8', '-i', output],
        ...['-af', 'volumedetect', '-vn', '-f', 'null', '-'],
      ]);
      const max = /max_volume: (-?[\d.]+|-inf) dB/.exec(String(r.stderr))?.[1];
      return max === '-inf' ? -Infinity : Number(max);
    };
    expect(await level(0.1)).toBeLessThan(-60);
    expect(await level(1.1)).toBeGreaterThan(-30);
    expect(await level(2.1)).toBeLessThan(-60);
  });

  it('tells a font without CJK glyphs from one with them, by its charset', (ctx) => {
    if (!existsSync(DEJAVU) || !cjkFontFound())
      ctx.skip(
        'needs DejaVu Sans and a CJK font: apt-get install fonts-noto-cjk (scripts/setup.sh)',
      );
    const cjk = findFont(undefined, true);
    expect(fontCovers(cjk, '清晨 / Morning')).toBe(true);
    expect(fontCovers(DEJAVU, '清晨 / Morning')).toBe(false);
    expect(fontCovers(DEJAVU, 'Morning')).toBe(true);
    expect(cjkFontFound(DEJAVU, '清晨')).toBe(false);
    expect(cjkFontFound(cjk, '清晨')).toBe(true);
    expect(() => findFont(DEJAVU, true)).toThrow(
      /has no glyphs for the Chinese, Japanese or Korean text/,
    );
    expect(findFont(DEJAVU, false)).toBe(DEJAVU);
  });
});
