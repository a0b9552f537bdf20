/**
 * Probes are remembered by the job or run that made them, never by the process: two jobs of
 * one process (the test suite, a library user) share no answer, so one never sees a file as
 * another job saw it before it was replaced.
 */
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import { jobCaches } from '../../src/pipeline/job.js';
import { makeClip, tempDir } from './helpers.js';

/** `bytes` followed by an MP4 `free` box, so that the file is `size` bytes long. */
function padded(bytes: Buffer, size: number): Buffer {
  const free = Buffer.alloc(size - bytes.length);
  free.writeUInt32BE(free.length, 0);
  free.write('free', 4, 'latin1');
  return Buffer.concat([bytes, free]);
}

describe('probe answers belong to a job', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    tmp = await tempDir('shotlist-probe-cache-');
  });
  afterEach(() => tmp.cleanup());

  it('a clip replaced in place (same size, same mtime) is seen anew by the next job', async () => {
    const short = await readFile(await makeClip(path.join(tmp.dir, 'a.mp4'), { seconds: 1 }));
    const long = await readFile(await makeClip(path.join(tmp.dir, 'b.mp4'), { seconds: 2 }));
    const size = Math.max(short.length, long.length) + 16;
    const clip = path.join(tmp.dir, 'clip.mp4');
    await writeFile(clip, padded(short, size));
    const mtime = new Date('2026-01-02T03:04:05Z');
    await utimes(clip, mtime, mtime);
    const { ino } = await stat(clip);

    const first = jobCaches();
    expect((await probe(clip, { cache: first.probes })).durationSec).toBeCloseTo(1, 1);
    // In place: the same inode, size and mtime, other frames.
    await writeFile(clip, padded(long, size));
    await utimes(clip, mtime, mtime);
    const now = await stat(clip);
    expect([now.ino, now.size, now.mtimeMs]).toEqual([ino, size, mtime.getTime()]);

    const second = jobCaches();
    expect((await probe(clip, { cache: second.probes })).durationSec).toBeCloseTo(2, 1);
    // Without a job's cache nothing is remembered: every probe reads the file.
    expect((await probe(clip)).durationSec).toBeCloseTo(2, 1);
    // The first job's own answer is its own (it checks clips by hash before trusting them).
    expect((await probe(clip, { cache: first.probes })).durationSec).toBeCloseTo(1, 1);
  });

  it('each job gets caches of its own', () => {
    const a = jobCaches();
    const b = jobCaches();
    expect(a.probes).not.toBe(b.probes);
    expect(a.hashes).not.toBe(b.hashes);
    expect(a.frames).not.toBe(b.frames);
  });
});
