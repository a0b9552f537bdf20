/**
 * Measurements of a finished file by ffmpeg's own filters: the level of a band of its audio,
 * its loudness (ebur128), the colour of a patch of a frame. Tests check outputs with these,
 * never by trusting the filtergraph that made them.
 */
import { execa } from 'execa';
import { FFMPEG } from './tools.js';

/** Writes `out` from a lavfi source (a tone, a colour), with more output arguments. */
export async function lavfi(out: string, source: string, ...more: string[]): Promise<void> {
  await execa(FFMPEG, ['-v', 'error', '-y', '-f', 'lavfi', '-i', source, ...more, out]);
}

/** Mean level (dB) of a band of a file's audio between two times. */
export async function level(file: string, from: number, to: number, band: string): Promise<number> {
  const r = await execa(FFMPEG, [
    ...['-hide_banner', '-i', file, '-vn'],
    ...['-af', `atrim=start=${from}:end=${to},${band},volumedetect`, '-f', 'null', '-'],
  ]);
  return Number(/mean_volume: (-?[\d.]+) dB/.exec(String(r.stderr))?.[1] ?? -999);
}

/** A 2 kHz tone's band (music in tests) and a 200 Hz one's (voice): filters two octaves apart. */
export const HIGH_BAND = 'highpass=f=1000,highpass=f=1000,highpass=f=1000';
export const LOW_BAND = 'lowpass=f=500,lowpass=f=500,lowpass=f=500';

/** ffmpeg's ebur128 measurement of a file: integrated LUFS and true peak dBTP. */
export async function ebur128(file: string): Promise<{ i: number; tp: number }> {
  const r = await execa(FFMPEG, [
    ...['-hide_banner', '-nostats', '-i', file, '-map', '0:a:0'],
    ...['-af', 'ebur128=peak=true', '-f', 'null', '-'],
  ]);
  const summary = r.stderr.slice(r.stderr.lastIndexOf('Summary:'));
  return {
    i: Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]),
    tp: Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]),
  };
}

/** The mean RGB of a 16x16 square centred at (x, y) of the frame at `t` seconds. */
export async function colourAt(file: string, t: number, x: number, y: number): Promise<number[]> {
  const r = await execa(
    FFMPEG,
    [
      ...['-v', 'error', '-ss', String(t), '-i', file, '-frames:v', '1'],
      ...['-vf', `crop=16:16:${x - 8}:${y - 8}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    ],
    { encoding: 'buffer' },
  );
  const px = r.stdout as Uint8Array;
  const sum = [0, 0, 0];
  for (let i = 0; i < px.length; i++) sum[i % 3]! += px[i]!;
  return sum.map((s) => s / (px.length / 3));
}
