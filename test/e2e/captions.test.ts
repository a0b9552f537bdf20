import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSubtitles } from '../../src/media/captions.js';
import { detectFeatures, locateTool } from '../../src/media/locate.js';
import { probe } from '../../src/media/probe.js';
import type { RunReport } from '../../src/report/types.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { readReport } from './run-helpers.js';

const tmp = tempDir('shotlist-captions-e2e-');
afterAll(() => tmp.cleanup());

const FRAME = 1 / 24;
const W = 320;
const H = 180;

/** The luma of a region of the frame shown at `t` seconds, as raw bytes. */
async function region(
  file: string,
  t: number,
  box: { x: number; y: number; w: number; h: number },
): Promise<Buffer> {
  const r = await execa(
    locateTool('ffmpeg').path,
    [
      ...['-hide_banner', '-loglevel', 'error', '-ss', String(t), '-i', file],
      ...['-frames:v', '1', '-vf', `crop=${box.w}:${box.h}:${box.x}:${box.y},format=gray`],
      ...['-f', 'rawvideo', '-'],
    ],
    { encoding: 'buffer' },
  );
  return Buffer.from(r.stdout);
}

function meanDiff(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** Mean R, G, B of the frame at `t`. */
async function meanColor(file: string, t: number): Promise<[number, number, number]> {
  const r = await execa(
    locateTool('ffmpeg').path,
    [
      ...['-hide_banner', '-loglevel', 'error', '-ss', String(t), '-i', file],
      ...['-frames:v', '1', '-vf', 'scale=16:9,format=rgb24', '-f', 'rawvideo', '-'],
    ],
    { encoding: 'buffer' },
  );
  const px = Buffer.from(r.stdout);
  const sum = [0, 0, 0];
  for (let i = 0; i < px.length; i++) sum[i % 3]! += px[i]!;
  return sum.map((s) => s / (px.length / 3)) as [number, number, number];
}

describe('captions and cards through run --simulate (built bin, real ffmpeg)', () => {
  it('times the sidecars from the cut, adds a subtitle track, burns only where asked, and plays the card', async () => {
    const file = path.join(tmp.dir, 'captions.yaml');
    writeFileSync(
      file,
      `version: 1
name: captions
vars: { place: "the roof" }
defaults: { duration: 4, ratio: "16:9" }
variants:
  - { name: plain }
  - { name: burned }
cast:
  mimi: { images: ["https://example.com/mimi.png"], description: "a small ginger cat" }
shots:
  - id: s1
    prompt: "a ginger cat naps on a warm roof"
    trim: { start: 0.5 }
    transition: { type: fade, duration: 0.5 }
    caption: "On \${place}: it's 100% \\\\ [real], yes\\nsecond line"
  - id: s2
    prompt: "the ginger cat jumps down to the street"
    trim: { end: 3 }
    caption:
      - { text: "@mimi 跳下来了", start: 1, end: 2 }
      - { text: "the end", start: 2 }
stitch:
  size: ${W}x${H}
  captions: { burn: [burned], language: eng, style: { position: bottom, box: true } }
  cards:
    - { text: "A Title", duration: 1, at: start, background: "#00c000" }
`,
    );
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(
      ['run', file, '--simulate', '--sim-latency', '0.2-0.4', '--yes', '--out', out],
      { cwd: tmp.dir },
    );
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const report = readReport(out) as RunReport;
    expect(report.outputs.map((o) => o.file).sort()).toEqual([
      'final.burned.mp4',
      'final.plain.mp4',
    ]);
    // The report lists each final's sidecars, and its page links them.
    const burnedOut = report.outputs.find((o) => o.file === 'final.burned.mp4')!;
    expect(burnedOut.captions).toEqual(['final.burned.srt', 'final.burned.vtt']);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain(
      'href="final.burned.vtt"',
    );
    const clipOf = (id: string) =>
      path.join(out, report.shots.find((s) => s.id === id && s.variant === 'burned')!.file!);
    const d1 = (await probe(clipOf('s1'))).video!.durationSec! - 0.5;
    const d2 = 3;
    // The card, then s1 (trimmed), s2 joined by a 0.5 s fade: a cut where the ffmpeg has no
    // xfade (the npm package's), which the run says.
    const xfade = (await detectFeatures(locateTool('ffmpeg'))).filters.has('xfade');
    if (!xfade) expect(r.stdout + r.stderr).toContain('has no xfade filter');
    const fade = xfade ? 0.5 : 0;
    const s1 = { start: 1, end: 1 + d1 };
    const s2 = { start: s1.end - fade, end: s1.end - fade + d2 };
    const middle = s1.end - fade / 2;

    const burned = path.join(out, 'final.burned.mp4');
    const plain = path.join(out, 'final.plain.mp4');
    const final = await probe(burned);
    // The card lengthens the cut by its second.
    expect(Math.abs(final.durationSec - s2.end)).toBeLessThanOrEqual(2 * FRAME + 0.05);

    // Sidecars beside each final, timed from the cut: the first caption starts when the card
    // ends and hands over in the middle of the fade; s2's are shifted by where s2 plays.
    const expected = [
      { start: 1, end: middle, text: "On the roof: it's 100% \\ [real], yes\nsecond line" },
      { start: s2.start + 1, end: s2.start + 2, text: 'mimi 跳下来了' },
      { start: s2.start + 2, end: s2.end, text: 'the end' },
    ];
    for (const name of ['final.burned', 'final.plain']) {
      for (const ext of ['srt', 'vtt']) {
        const sidecar = path.join(out, `${name}.${ext}`);
        expect(existsSync(sidecar), sidecar).toBe(true);
        const cues = parseSubtitles(readFileSync(sidecar, 'utf8'), sidecar);
        expect(cues.map((c) => c.text)).toEqual(expected.map((c) => c.text));
        cues.forEach((c, i) => {
          expect(Math.abs(c.start - expected[i]!.start), `${ext} cue ${i} start`).toBeLessThan(
            FRAME,
          );
          expect(Math.abs(c.end - expected[i]!.end), `${ext} cue ${i} end`).toBeLessThan(FRAME);
        });
      }
    }

    // A soft subtitle track in each MP4, with its language.
    const streams = await execa(locateTool('ffprobe').path, [
      ...['-v', 'error', '-select_streams', 's', '-show_entries'],
      ...['stream=codec_name:stream_tags=language', '-of', 'json', plain],
    ]);
    expect(JSON.parse(streams.stdout).streams).toEqual([
      { codec_name: 'mov_text', tags: { language: 'eng' } },
    ]);

    // Burned in the burned variant only: its caption area differs from the plain one's during
    // a cue, and not in the gap between cues (s2 before its first caption) nor on the card.
    const area = { x: 0, y: Math.round(H * 0.7), w: W, h: Math.round(H * 0.3) };
    const diffAt = async (t: number) =>
      meanDiff(await region(burned, t, area), await region(plain, t, area));
    const during = await diffAt((s1.start + middle) / 2);
    const cjk = await diffAt(s2.start + 1.5);
    const gap = await diffAt((middle + s2.start + 1) / 2 + 0.1);
    const card = await diffAt(0.5);
    // Measured here: about 19 and 4 during the two cues, 0.2 in the gap, 0 on the card.
    expect(during).toBeGreaterThan(5);
    expect(cjk).toBeGreaterThan(2);
    expect(gap).toBeLessThan(1);
    expect(card).toBeLessThan(1);

    // The card shows its colour mid-card.
    const [red, green, blue] = await meanColor(burned, 0.5);
    expect(green).toBeGreaterThan(150);
    expect(red).toBeLessThan(60);
    expect(blue).toBeLessThan(60);
  });
});
