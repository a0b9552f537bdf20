import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileMatches, storeClip, storePath } from '../../src/render/store.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the clip store remembers what it hashed', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'shotlist-store-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('hashes a file again once it is rewritten, even with the same size', async () => {
    await writeFile(path.join(root, 'a.mp4'), 'first');
    expect(await fileMatches(root, 'a.mp4', { bytes: 5, sha256: sha('first') })).toBe(true);
    // Same length, other bytes: a remembered hash must not vouch for it.
    await writeFile(path.join(root, 'a.mp4'), 'other');
    expect(await fileMatches(root, 'a.mp4', { bytes: 5, sha256: sha('first') })).toBe(false);
    expect(await fileMatches(root, 'a.mp4', { bytes: 5, sha256: sha('other') })).toBe(true);
  });

  it('a stored clip replaced behind its back is no longer taken for the stored one', async () => {
    await writeFile(path.join(root, 'dl.tmp'), 'clip-bytes');
    await storeClip(root, 'dl.tmp', sha('clip-bytes'), 'clip.mp4');
    const expected = { bytes: 10, sha256: sha('clip-bytes') };
    expect(await fileMatches(root, 'clip.mp4', expected)).toBe(true);
    expect(await fileMatches(root, storePath(expected.sha256), expected)).toBe(true);
    await rm(path.join(root, 'clip.mp4'));
    await writeFile(path.join(root, 'clip.mp4'), 'clip-BYTES');
    expect(await fileMatches(root, 'clip.mp4', expected)).toBe(false);
  });
});
