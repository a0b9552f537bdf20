/**
 * The clip store: every verified clip is kept under `clips/.store/<sha256>.mp4`, and the named
 * clip (`clips/[<variant>/]<id>[.take<N>].mp4`) is a hard link to (or a copy of) the current
 * one. Reverting a prompt to an earlier version finds its clip here by the sha256 the journal
 * recorded: no network, and no earlier clip is ever overwritten.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { insideRoot, moveInside, placeCopy, regularFile } from '../safe-fs.js';
import { takeKey } from '../manifest/identity.js';
import type { JournalEntry, ShotRef } from './journal.js';

/** The store folder, relative to the output folder. */
export const STORE_DIR = 'clips/.store';

/** Whether `value` is a sha256 in hex: the only journal text that ever becomes a file name. */
export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

/** Where the clip with this sha256 is kept, relative to the output folder. */
export function storePath(sha256: string): string {
  if (!isSha256(sha256)) throw new Error(`not a sha256: ${JSON.stringify(sha256)}`);
  return `${STORE_DIR}/${sha256}.mp4`;
}

/** sha256 of a file, streamed. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const HASHED_LIMIT = 100_000;

function stampOf(info: Stats): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}

/**
 * The hashes a job or run has taken, by path, with the file's identity at the time. A run
 * checks every done clip when it starts and again before stitching; a thousand clips should be
 * read once, not twice. Any write or replacement changes the inode or the change time, so a
 * file touched since is hashed again. Owned by one job: two jobs of a process share none.
 */
export class HashCache {
  readonly #hashed = new Map<string, { stamp: string; sha256: string }>();

  /** The sha256 taken of `abs` when it was the file `info` describes. */
  get(abs: string, info: Stats): string | undefined {
    const known = this.#hashed.get(abs);
    return known?.stamp === stampOf(info) ? known.sha256 : undefined;
  }

  remember(abs: string, info: Stats, sha256: string): void {
    if (this.#hashed.size >= HASHED_LIMIT) this.#hashed.delete(this.#hashed.keys().next().value!);
    this.#hashed.set(abs, { stamp: stampOf(info), sha256 });
  }
}

/**
 * Whether `rel` is a plain file inside `root`, reached through no link, with these bytes;
 * with `hashes`, a file the job hashed and that is unchanged since is not read again.
 */
export async function fileMatches(
  root: string,
  rel: string,
  expected: { bytes: number; sha256: string },
  hashes?: HashCache,
): Promise<boolean> {
  const info = await regularFile(root, rel);
  if (!info || info.size !== expected.bytes) return false;
  try {
    const abs = insideRoot(root, rel);
    const known = hashes?.get(abs, info);
    if (known !== undefined) return known === expected.sha256;
    const sha256 = await hashFile(abs);
    hashes?.remember(abs, info, sha256);
    return sha256 === expected.sha256;
  } catch {
    return false;
  }
}

/**
 * Makes the named clip `clip` hold the verified file `expected`: kept as it is when it already
 * matches (and added to the store if missing there), else linked again from the store. Returns
 * false when neither has it (the clip must be downloaded again).
 */
export async function restoreClip(
  root: string,
  clip: string,
  expected: { bytes: number; sha256: string },
  hashes?: HashCache,
): Promise<boolean> {
  if (!isSha256(expected.sha256)) return false;
  const stored = storePath(expected.sha256);
  if (await fileMatches(root, clip, expected, hashes)) {
    if (!(await regularFile(root, stored))) await placeCopy(root, clip, stored);
    return true;
  }
  if (!(await fileMatches(root, stored, expected, hashes))) return false;
  await placeCopy(root, stored, clip);
  return true;
}

/**
 * Files a verified download (`tmp`, relative to the output folder) into the store under its
 * sha256 and makes the named clip point at it.
 */
export async function storeClip(
  root: string,
  tmp: string,
  sha256: string,
  clip: string,
  hashes?: HashCache,
): Promise<void> {
  const stored = storePath(sha256);
  await moveInside(root, tmp, stored);
  await placeCopy(root, stored, clip);
  if (!hashes) return;
  // Hashed while it downloaded: the checks before stitching need not read it again.
  for (const rel of [stored, clip]) {
    const info = await regularFile(root, rel);
    if (info) hashes.remember(insideRoot(root, rel), info, sha256);
  }
}

/** One verified file the journal knows for a shot (one id, variant and take). */
export interface ClipVersion {
  sha256: string;
  bytes: number;
  /** Epoch milliseconds of its latest download. */
  at: number;
  /** The journal key (the request) that produced it. */
  key: string;
  /** Whether it is the clip the shot's current request gives. */
  current: boolean;
}

/**
 * Every verified file the journal knows, per shot (`id`, `variant`, `take`), oldest first,
 * one per sha256. `current` marks those whose key is in `currentKeys`.
 */
export function clipVersions(
  entries: readonly JournalEntry[],
  currentKeys: ReadonlySet<string> = new Set(),
): Map<string, ClipVersion[]> {
  const refs = new Map<string, ShotRef>();
  const versions = new Map<string, Map<string, ClipVersion>>();
  for (const e of entries) {
    if (e.type === 'intent') refs.set(e.key, e.shot);
    if (e.type !== 'file' || !isSha256(e.sha256)) continue;
    const ref = refs.get(e.key);
    if (!ref) continue;
    const byHash = versions.get(takeKey(ref)) ?? new Map<string, ClipVersion>();
    versions.set(takeKey(ref), byHash);
    byHash.delete(e.sha256);
    byHash.set(e.sha256, {
      sha256: e.sha256,
      bytes: e.bytes,
      at: e.at,
      key: e.key,
      current: currentKeys.has(e.key),
    });
  }
  return new Map([...versions].map(([k, v]) => [k, [...v.values()]]));
}

/** The {@link clipVersions} entry of one shot. */
export function versionsOf(
  all: Map<string, ClipVersion[]>,
  shot: { id: string; variant: string | null; take: number },
): ClipVersion[] {
  return all.get(takeKey(shot)) ?? [];
}
