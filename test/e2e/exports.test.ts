import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import { ebur128 } from '../helpers/measure.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { FFMPEG, FFPROBE } from '../helpers/tools.js';
import { readReport } from './run-helpers.js';

const tmp = tempDir('shotlist-exports-e2e-');
afterAll(() => tmp.cleanup());

/** A 10 s stereo 997 Hz tone whose peak (and, for a sine, loudness) is `db` dBFS. */
async function tone(name: string, db: number): Promise<string> {
  const file = path.join(tmp.dir, name);
  const a = 10 ** (db / 20);
  const wave = `${a}*sin(2*PI*997*t)`;
  await execa(FFMPEG, [
    ...['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `aevalsrc=${wave}|${wave}:s=48000:d=10`, '-c:a', 'pcm_s16le', file],
  ]);
  return file;
}

/** The top-level boxes of an MP4, in file order. */
function topBoxes(file: string): string[] {
  const buf = readFileSync(file);
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= buf.length;) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(buf.readBigUInt64BE(at + 8));
    if (size === 0) size = buf.length - at;
    boxes.push(type);
    if (size < 8) break;
    at += size;
  }
  return boxes;
}

async function streams(file: string) {
  const r = await execa(FFPROBE, [
    ...['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,profile,width,height'],
    ...['-show_entries', 'stream=r_frame_rate,sample_rate', '-of', 'json', file],
  ]);
  return (JSON.parse(r.stdout) as { streams: Record<string, string | number>[] }).streams;
}

function manifest(soundtrack: string): string {
  const file = path.join(tmp.dir, 'film.yaml');
  writeFileSync(
    file,
    `version: 1
name: film
defaults: { duration: 4, ratio: "9:16", size: 480p }
shots:
  - { id: a, prompt: "the first shot of the deliverable" }
  - { id: b, prompt: "the second shot of the deliverable" }
stitch:
  size: 180x320
  soundtrack: { file: ${soundtrack}, mode: replace, fade_out: 0 }
  loudness: streaming
  exports: [tiktok]
`,
  );
  return file;
}

describe('stitch.exports and stitch.loudness through the built CLI', () => {
  it('makes a 1080x1920 30 fps H.264 High / AAC 48 kHz faststart deliverable at -14 LUFS from a quiet and a loud source, and keeps it when nothing changed', async () => {
    const quiet = await tone('quiet.wav', -35);
    const loud = await tone('loud.wav', -8);
    // The sources really are that far from the target.
    expect((await ebur128(quiet)).i).toBeLessThan(-33);
    expect((await ebur128(loud)).i).toBeGreaterThan(-10);
    const out = path.join(tmp.dir, 'out');
    const file = manifest('quiet.wav');
    // 480p 9:16 clips are 496x864: the plan says the deliverable is upscaled, and with what.
    const plan = await shotlist(['plan', file, '--simulate'], { cwd: tmp.dir });
    expect(plan.stdout).toContain(
      'export final.tiktok.mp4: 1080x1920 from 496x864 clips, upscaled x2.18 (lanczos)',
    );
    const run = await shotlist(
      ['run', file, '--simulate', '--sim-latency', '0.1-0.2', '--yes', '--out', out],
      { cwd: tmp.dir },
    );
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    const tiktok = path.join(out, 'final.tiktok.mp4');
    const [video, audio] = await streams(tiktok);
    expect(video).toMatchObject({ codec_name: 'h264', profile: 'High', width: 1080, height: 1920 });
    expect(video!.r_frame_rate).toBe('30/1');
    expect(audio).toMatchObject({ codec_name: 'aac', sample_rate: '48000' });
    const boxes = topBoxes(tiktok);
    expect(boxes.indexOf('moov')).toBeGreaterThanOrEqual(0);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    // The cut lasts what its two clips last, the deliverable too.
    const report = readReport(out);
    const clips = await Promise.all(report.shots.map((s) => probe(path.join(out, s.file!))));
    const cut = clips.reduce((sum, c) => sum + (c.video?.durationSec ?? c.durationSec), 0);
    expect(Math.abs((await probe(tiktok)).durationSec - cut)).toBeLessThan(0.1);

    for (const [name, source] of [
      ['quiet', null],
      ['loud', 'loud.wav'],
    ] as const) {
      if (source) {
        manifest(source);
        const again = await shotlist(['stitch', file, '--simulate', '--out', out], {
          cwd: tmp.dir,
        });
        expect(again.exitCode, again.stderr + again.stdout).toBe(0);
        expect(again.stdout).toContain('stitched final.tiktok.mp4');
      }
      for (const f of ['final.mp4', 'final.tiktok.mp4']) {
        const measured = await ebur128(path.join(out, f));
        expect(Math.abs(measured.i - -14), `${name} ${f}: ${measured.i} LUFS`).toBeLessThanOrEqual(
          1,
        );
        expect(measured.tp, `${name} ${f}`).toBeLessThanOrEqual(-1);
        const entry = readReport(out).outputs.find((o) => o.file === f);
        expect(entry?.loudness?.integrated).toBeCloseTo(measured.i, 0);
      }
    }
    expect(readReport(out).outputs.find((o) => o.file === 'final.tiktok.mp4')?.export).toBe(
      'tiktok',
    );
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/final\.tiktok\.mp4[^]*?-1[345]\.\d LUFS, true peak -\d+\.\d dBTP/);

    const before = statSync(tiktok).mtimeMs;
    const third = await shotlist(['stitch', file, '--simulate', '--out', out], { cwd: tmp.dir });
    expect(third.exitCode, third.stderr + third.stdout).toBe(0);
    expect(third.stdout).toMatch(/final\.tiktok\.mp4: unchanged .* loudness -1[345]\.\d LUFS/);
    expect(third.stdout).not.toMatch(/^stitched /m);
    expect(statSync(tiktok).mtimeMs).toBe(before);
  });
});
