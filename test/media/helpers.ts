import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { detectFeatures, locateTool } from '../../src/media/locate.js';

export const BUNDLED_FFMPEG = path.resolve('node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
export const hasBundledFfmpeg = existsSync(BUNDLED_FFMPEG);

/**
 * An ffmpeg with xfade: the one shotlist would use, else Debian's. Returns why not otherwise,
 * so a test can skip saying what to install.
 */
export async function xfadeFfmpeg(): Promise<{ path: string } | { reason: string }> {
  const located = locateTool('ffmpeg');
  const candidates = [located.path];
  if (!process.env.FFMPEG_PATH && existsSync('/usr/bin/ffmpeg')) candidates.push('/usr/bin/ffmpeg');
  for (const candidate of candidates) {
    const features = await detectFeatures({ name: 'ffmpeg', path: candidate, source: 'env' });
    if (features.filters.has('xfade')) return { path: candidate };
  }
  return {
    reason: `no ffmpeg with xfade here (${located.path} lacks it): install ffmpeg >= 4.3 (Debian: apt-get install ffmpeg) to test transitions`,
  };
}

/** A fresh folder under the OS temp dir, and a function that removes it. */
export async function tempDir(prefix = 'shotlist-media-'): Promise<{
  dir: string;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface ClipSpec {
  width?: number;
  height?: number;
  seconds?: number;
  fps?: number;
  audio?: boolean;
  /** Sine frequency; different clips sound different. */
  tone?: number;
}

/** Makes a small real clip: a test pattern and, unless told otherwise, a sine tone in AAC. */
export async function makeClip(file: string, spec: ClipSpec = {}): Promise<string> {
  const { width = 160, height = 90, seconds = 1, fps = 24, audio = true, tone = 440 } = spec;
  const ffmpeg = locateTool('ffmpeg').path;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${width}x${height}:rate=${fps}:duration=${seconds}`,
  ];
  if (audio)
    args.push('-f', 'lavfi', '-i', `sine=frequency=${tone}:sample_rate=48000:duration=${seconds}`);
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', String(fps));
  if (audio) args.push('-c:a', 'aac', '-ac', '2', '-b:a', '64k');
  args.push('-movflags', '+faststart', file);
  await execa(ffmpeg, args);
  return file;
}
