import {
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { insideRoot, withAtomicFile } from '../src/safe-fs.js';
import { tempDir } from './helpers/cli.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

function folder(): string {
  const { dir, cleanup } = tempDir('shotlist-safe-fs-');
  cleanups.push(cleanup);
  return dir;
}

describe('withAtomicFile', () => {
  it('hands the writer a fresh file beside the target, with its extension, then renames it', async () => {
    const dir = folder();
    const file = path.join(dir, 'final.mp4');
    writeFileSync(file, 'old');
    const seen = await withAtomicFile(file, async (tmp) => {
      expect(path.dirname(tmp)).toBe(dir);
      expect(path.extname(tmp)).toBe('.mp4');
      expect(statSync(tmp).size).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe('old');
      await writeFile(tmp, 'new');
      return tmp;
    });
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(existsSync(seen)).toBe(false);
    expect(readdirSync(dir)).toEqual(['final.mp4']);
  });

  it('keeps the old file and removes the temporary one when the writer fails', async () => {
    const dir = folder();
    const file = path.join(dir, 'final.jpg');
    writeFileSync(file, 'old');
    await expect(
      withAtomicFile(file, async (tmp) => {
        await writeFile(tmp, 'half');
        throw new Error('ffmpeg failed');
      }),
    ).rejects.toThrow('ffmpeg failed');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['final.jpg']);
  });

  it('replaces a link at the target instead of writing through it', async () => {
    const dir = folder();
    const elsewhere = path.join(dir, 'elsewhere.txt');
    writeFileSync(elsewhere, 'keep');
    const file = path.join(dir, 'final.txt');
    symlinkSync(elsewhere, file);
    await withAtomicFile(file, (tmp) => writeFile(tmp, 'new'));
    expect(readFileSync(elsewhere, 'utf8')).toBe('keep');
    expect(readFileSync(file, 'utf8')).toBe('new');
  });
});

describe('insideRoot', () => {
  it('refuses paths that leave the root, and keeps names that only start with dots', () => {
    const root = path.resolve('/out');
    for (const rel of ['..', '../x', 'a/../../x', '/etc/passwd', '', '.'])
      expect(() => insideRoot(root, rel), rel).toThrow(/not inside the output folder/);
    expect(insideRoot(root, '..final.json.tmp')).toBe(path.join(root, '..final.json.tmp'));
    expect(insideRoot(root, 'clips/..x.mp4')).toBe(path.join(root, 'clips', '..x.mp4'));
  });
});
