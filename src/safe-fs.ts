/**
 * File operations inside the output folder, which is untrusted input: anyone may have edited
 * it between runs. Every path is given relative to a root and checked to stay inside it;
 * every folder and file on the way is looked at with `lstat`, and a symbolic link is refused,
 * never followed (a rename may replace a link; nothing writes through one). Temporary files
 * are created exclusively, and deletions unlink single files, never folders.
 *
 * The API, for every layer:
 * - {@link insideRoot}: the absolute path of `rel`, or an {@link UnsafePathError}.
 * - {@link ensureDir}: makes `rel` and each folder above it, refusing links.
 * - {@link regularFile}: the stats of `rel` when it is a plain file reached through no link.
 * - {@link refuseLink}: throws when `rel` (or a folder above it) is a link.
 * - {@link tempName}: an unguessable name beside `rel`, for a writer that creates it itself.
 * - {@link writeFileAtomic}: exclusive temporary file, fsync, rename into place.
 * - {@link withAtomicFile}: the same for a file another program (ffmpeg) writes.
 * - {@link placeCopy}: hard link (else copy) of one file to another name, replaced atomically.
 * - {@link removeOwned}: unlinks one file this run created.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES, ShotlistError } from './errors.js';

/** `O_NOFOLLOW` where the platform has it: opening a link then fails instead of following it. */
export const O_NOFOLLOW: number = constants.O_NOFOLLOW ?? 0;

/** A path in the output folder that shotlist will not use: a link, or a way out of the folder. */
export class UnsafePathError extends ShotlistError {
  readonly path: string;

  constructor(file: string, what: string) {
    super(`refusing to use ${file}: ${what}`, {
      code: 'unsafe_path',
      exitCode: EXIT_CODES.badInput,
      fix: `shotlist never follows links or writes outside the output folder; remove ${file} (a link, not what it points to) and run again`,
    });
    this.path = file;
  }
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** The absolute path of `rel` under `root`; throws when it is absolute or leaves the root. */
export function insideRoot(root: string, rel: string): string {
  const base = path.resolve(root);
  const abs = path.resolve(base, rel);
  const back = path.relative(base, abs);
  // `..` itself or a path through it leaves the root; a name that merely starts with dots
  // (`..final.json.tmp`) does not.
  const leaves = back === '..' || back.startsWith(`..${path.sep}`);
  if (path.isAbsolute(rel) || back === '' || leaves || path.isAbsolute(back)) {
    throw new UnsafePathError(abs, `it is not inside the output folder ${base}`);
  }
  return abs;
}

/** The folders between the root and `rel` (exclusive of `rel` itself), outermost first. */
function parents(rel: string): string[] {
  const parts = path.normalize(rel).split(path.sep).slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join(path.sep));
}

async function checkDir(root: string, rel: string, create: boolean): Promise<boolean> {
  const abs = insideRoot(root, rel);
  let info: Stats;
  try {
    info = await lstat(abs);
  } catch (err) {
    if (!isMissing(err) || !create) {
      if (isMissing(err)) return false;
      throw err;
    }
    await mkdir(abs).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    info = await lstat(abs);
  }
  if (info.isSymbolicLink()) throw new UnsafePathError(abs, 'it is a symbolic link');
  if (!info.isDirectory()) throw new UnsafePathError(abs, 'it should be a folder');
  return true;
}

/** Makes the root, then `rel` and every folder above it, refusing any that is a link. */
export async function ensureDir(root: string, rel: string): Promise<string> {
  await mkdir(root, { recursive: true });
  if (path.normalize(rel) === '.') return path.resolve(root);
  for (const dir of [...parents(rel), path.normalize(rel)]) await checkDir(root, dir, true);
  return insideRoot(root, rel);
}

/** Throws when `rel` or a folder above it is a link; a missing path is fine. */
export async function refuseLink(root: string, rel: string): Promise<string> {
  const abs = insideRoot(root, rel);
  for (const dir of parents(rel)) if (!(await checkDir(root, dir, false))) return abs;
  try {
    if ((await lstat(abs)).isSymbolicLink())
      throw new UnsafePathError(abs, 'it is a symbolic link');
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  return abs;
}

/**
 * The stats of `rel` when it is a plain file reached through no link, else undefined (missing,
 * a link, a folder, outside the root). What a check of a cached file reads.
 */
export async function regularFile(root: string, rel: string): Promise<Stats | undefined> {
  try {
    const abs = await refuseLink(root, rel);
    const info = await lstat(abs);
    return info.isFile() ? info : undefined;
  } catch {
    return undefined;
  }
}

/** An unguessable file name beside `rel` (same folder), for a temporary file. */
export function tempName(rel: string, suffix = '.tmp'): string {
  const dir = path.dirname(rel);
  const name = `.${path.basename(rel)}.${process.pid}.${randomBytes(6).toString('hex')}${suffix}`;
  return dir === '.' ? name : path.join(dir, name);
}

/**
 * The absolute path of `rel`, a file about to be replaced by a rename: a link there is fine (the
 * rename replaces it), a folder is refused (shotlist never removes one to make room).
 */
async function replaceable(root: string, rel: string): Promise<string> {
  const abs = insideRoot(root, rel);
  const info = await lstat(abs).catch((err: unknown) => {
    if (isMissing(err)) return undefined;
    throw err;
  });
  if (info?.isDirectory()) throw new UnsafePathError(abs, 'it is a folder where a file should be');
  return abs;
}

/**
 * Writes `data` to `rel` atomically: an exclusively created temporary file beside it (a name
 * nobody else holds, never a link), synced, then renamed over `rel` (which replaces a link
 * there rather than writing through it). The one atomic writer of the output folder.
 */
export async function writeFileAtomic(
  root: string,
  rel: string,
  data: string | Uint8Array,
): Promise<string> {
  await ensureDir(root, path.dirname(rel));
  const target = await replaceable(root, rel);
  const tmp = insideRoot(root, tempName(rel));
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    await rename(tmp, target);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return target;
}

/**
 * Replaces `file` with what `write` puts at a temporary path beside it, for writers that must
 * create the file themselves (ffmpeg). The temporary name is unguessable and created
 * exclusively first, so `write` never writes through someone else's file or link; it keeps
 * `file`'s extension (ffmpeg picks the format by it). What `write` resolves to is returned
 * once the file is synced and renamed into place; on any failure the temporary file goes.
 */
export async function withAtomicFile<T>(
  file: string,
  write: (tmp: string) => Promise<T>,
): Promise<T> {
  const tmp = tempName(file, `.tmp${path.extname(file)}`);
  await (await open(tmp, 'wx')).close();
  try {
    const result = await write(tmp);
    const handle = await open(tmp, constants.O_RDWR | O_NOFOLLOW);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    return result;
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * Makes `to` hold the same file as `from` (both relative to the root): a hard link where the
 * file system allows, else a copy, made under an exclusive temporary name and renamed into
 * place, so `to` is replaced whole and a link at `to` is replaced, never followed.
 */
export async function placeCopy(root: string, from: string, to: string): Promise<string> {
  const source = await refuseLink(root, from);
  await ensureDir(root, path.dirname(to));
  const target = await replaceable(root, to);
  const tmp = insideRoot(root, tempName(to));
  try {
    await link(source, tmp).catch(() => copyFile(source, tmp, constants.COPYFILE_EXCL));
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return target;
}

/** Renames `from` to `to` within the root (replacing a link at `to`, never following it). */
export async function moveInside(root: string, from: string, to: string): Promise<string> {
  const source = await refuseLink(root, from);
  await ensureDir(root, path.dirname(to));
  const target = await replaceable(root, to);
  await rename(source, target);
  return target;
}

/**
 * Unlinks one file this run created, inside the root. A folder is never removed, and a link
 * is removed itself (what it points to is untouched). A missing file is fine.
 */
export async function removeOwned(root: string, rel: string): Promise<void> {
  const abs = insideRoot(root, rel);
  for (const dir of parents(rel)) if (!(await checkDir(root, dir, false))) return;
  try {
    const info = await lstat(abs);
    if (info.isDirectory()) return;
    await unlink(abs);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}
