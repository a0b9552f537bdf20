import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadOptions } from '../../src/api/download.js';
import type { VideoTask } from '../../src/api/types.js';
import { ApiError } from '../../src/errors.js';
import { fetchClip } from '../../src/render/fetch.js';
import { STORE_DIR, storePath } from '../../src/render/store.js';
import { ensureDir } from '../../src/safe-fs.js';
import { KEY, assessed, fakeClient, fakeContext } from './fakes.js';

const BYTES = Buffer.from('a video, as far as this test is concerned');
const SHA = createHash('sha256').update(BYTES).digest('hex');
const FRESH = 'https://files.example.test/fresh.mp4';
const EXPIRED = 'https://files.example.test/expired.mp4';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-fetch-'));
  await ensureDir(dir, STORE_DIR);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file host where only the fresh link works; every fetch and look is recorded. */
function host() {
  const fetched: string[] = [];
  let looks = 0;
  const client = fakeClient({
    getTask: (id: string) => {
      looks++;
      return Promise.resolve({ id, status: 'completed', metadata: { url: FRESH } } as VideoTask);
    },
    download: async (url: string, file: string, options?: DownloadOptions) => {
      fetched.push(url);
      if (url !== FRESH) throw new ApiError('link expired', { code: 'http_403', status: 403 });
      await writeFile(file, BYTES);
      options?.onProgress?.(BYTES.length, BYTES.length);
      return { file, bytes: BYTES.length, sha256: SHA };
    },
  });
  return { client, fetched, looks: () => looks };
}

describe('fetch', () => {
  it('without a known link, asks for a fresh one first, then stores, names and journals the clip', async () => {
    const h = host();
    const f = fakeContext(h.client, assessed('download'), { outDir: dir });
    const r = await fetchClip(f.ctx, 'task-1', undefined);
    expect(r.status).toBe('done');
    expect(h.looks()).toBe(1);
    expect(h.fetched).toEqual([FRESH]);
    expect(await readFile(path.join(dir, 'clips/s01.mp4'))).toEqual(BYTES);
    expect(await readFile(path.join(dir, storePath(SHA)))).toEqual(BYTES);
    expect(f.entries).toEqual([
      {
        type: 'file',
        key: KEY,
        task_id: 'task-1',
        path: 'clips/s01.mp4',
        bytes: BYTES.length,
        sha256: SHA,
        at: 1000,
      },
    ]);
    expect(f.events.map((e) => e.type)).toEqual([
      'downloading',
      'downloading',
      'downloaded',
      'done',
    ]);
    expect(f.events[1]).toMatchObject({ bytes: BYTES.length, total: BYTES.length });
  });

  it('an expired link is refreshed and fetched again', async () => {
    const h = host();
    const f = fakeContext(h.client, assessed(), { outDir: dir });
    const r = await fetchClip(f.ctx, 'task-1', EXPIRED);
    expect(r.status).toBe('done');
    expect(h.fetched).toEqual([EXPIRED, FRESH]);
    expect(h.looks()).toBe(1);
  });

  it('a clip that fails verification is discarded; the task stays done for the next run', async () => {
    const h = host();
    const verified: string[] = [];
    const f = fakeContext(h.client, assessed(), {
      outDir: dir,
      verify: (file) => {
        verified.push(file);
        return Promise.reject(new Error('not a video: no video stream'));
      },
    });
    const r = await fetchClip(f.ctx, 'task-1', FRESH);
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe('verify_failed');
    expect(r.error?.message).toMatch(/not a video.*run again to fetch it without paying/);
    expect(verified).toHaveLength(3);
    expect(f.entries).toEqual([
      {
        type: 'download_failed',
        key: KEY,
        task_id: 'task-1',
        message: 'not a video: no video stream',
        at: 1000,
      },
    ]);
    // Nothing unverified is left in the store or under the clip's name.
    expect(await readdir(path.join(dir, STORE_DIR))).toEqual([]);
    expect(await readdir(path.join(dir, 'clips'))).toEqual(['.store']);
  });

  it('a file too large is not fetched again through a fresh link', async () => {
    const tooLarge = new ApiError('the file is larger than 1 MB', { code: 'download_too_large' });
    const fetched: string[] = [];
    const client = fakeClient({
      download: (url: string) => {
        fetched.push(url);
        return Promise.reject(tooLarge);
      },
    });
    const f = fakeContext(client, assessed(), { outDir: dir });
    const r = await fetchClip(f.ctx, 'task-1', FRESH);
    expect(fetched).toEqual([FRESH]);
    expect(r.error?.code).toBe('download_too_large');
  });

  it('a stopped run leaves the finished task pending, unfetched', async () => {
    const h = host();
    const f = fakeContext(h.client, assessed('download'), { outDir: dir });
    f.stop.abort();
    const r = await fetchClip(f.ctx, 'task-1', FRESH);
    expect(r).toMatchObject({ status: 'pending', error: { code: 'interrupted' } });
    expect(h.fetched).toEqual([]);
    // A finished task is not at risk: its bill is settled.
    expect(r.charge).toBeUndefined();
  });
});
