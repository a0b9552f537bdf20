import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateTool } from '../../src/media/locate.js';
import { layerFiles } from '../../src/media/layers.js';
import { stitch } from '../../src/media/stitch.js';
import type { Soundtrack, StitchOptions } from '../../src/media/stitch-plan.js';
import { makeClip, tempDir } from './helpers.js';

const ffmpeg = locateTool('ffmpeg').path;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const file = (name: string) => path.join(tmp.dir, name);

/** Mean level (dB) of the 2 kHz band of a file's audio between two times, measured by ffmpeg. */
async function music(output: string, from: number, to: number): Promise<number> {
  const r = await execa(ffmpeg, [
    ...['-hide_banner', '-i', output, '-vn', '-af'],
    `atrim=start=${from}:end=${to},highpass=f=1000,highpass=f=1000,highpass=f=1000,volumedetect`,
    ...['-f', 'null', '-'],
  ]);
  return Number(/mean_volume: (-?[\d.]+) dB/.exec(String(r.stderr))?.[1] ?? -999);
}

function options(name: string, soundtrack: Soundtrack, over: Partial<StitchOptions> = {}) {
  return {
    output: file(name),
    clips: [
      { file: file('a.mp4'), id: 'a' },
      { file: file('b.mp4'), id: 'b' },
    ],
    transition: { type: 'cut', duration: 0 },
    audio: 'keep',
    soundtrack,
    size: { width: 160, height: 90 },
    fit: 'pad',
    crf: 30,
    preset: 'ultrafast',
    ...over,
  } satisfies StitchOptions;
}

beforeAll(async () => {
  tmp = await tempDir('shotlist-voice-');
  // Clips with a 200 Hz "dialogue" tone; a 1.7 s 2 kHz soundtrack for a 2 s cut.
  await makeClip(file('a.mp4'), { seconds: 1, tone: 200 });
  await makeClip(file('b.mp4'), { seconds: 1, tone: 200 });
  await execa(ffmpeg, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=2000:duration=1.7'],
    ...['-ac', '2', file('music.wav')],
  ]);
});
afterAll(() => tmp.cleanup());

describe('soundtrack fit and dialogue ducking (real ffmpeg, tiny clips)', () => {
  const track: Soundtrack = { file: '', volume: 1, fadeOut: 0, mode: 'mix' };

  it('stretch_end slows a 1.7 s track to end with the 2 s cut; without it the end is silent', async () => {
    const st = { ...track, file: file('music.wav') };
    const stretched = await stitch(options('stretch.mp4', { ...st, fit: 'stretch_end' }));
    expect(stretched.warnings).toEqual([]);
    const plain = await stitch(options('none.mp4', st));
    expect(await music(stretched.output, 1.8, 1.95)).toBeGreaterThan(-40);
    expect(await music(plain.output, 1.8, 1.95)).toBeLessThan(-60);
    expect(Math.abs(stretched.durationSec - 2)).toBeLessThan(0.1);
  });

  it('dialogue: true ducks the music under the clips own audio by about the amount', async () => {
    const st = { ...track, file: file('music.wav'), fit: 'stretch_end' as const };
    const ducked = await stitch(
      options('ducked.mp4', st, { duck: { voice: true, dialogue: true, amount: 12 } }),
    );
    const open = await stitch(options('open.mp4', st));
    const drop = (await music(open.output, 0.3, 1.7)) - (await music(ducked.output, 0.3, 1.7));
    expect(drop).toBeGreaterThanOrEqual(8);
    expect(drop).toBeLessThan(16);
  });

  it('lists the logo and voice-over files a final reads, so a changed one makes it again', () => {
    const o = options(
      'x.mp4',
      { ...track, file: file('music.wav') },
      {
        logo: [{ file: '/m/l.png', corner: 'top-left', width: 0.1, margin: 0, opacity: 1 }],
        voiceovers: [
          { file: '/m/v.wav', where: { cut: 0 }, volume: 1 },
          { file: '/m/v.wav', where: { clip: 1, offset: 0 }, volume: 1 },
        ],
      },
    );
    expect(layerFiles(o)).toEqual(['/m/l.png', '/m/v.wav']);
  });
});
