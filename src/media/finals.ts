/**
 * What each final was made from, so an unchanged one is not encoded again and a stale one never
 * looks current. For every final shotlist made it keeps a small record (`.finals/final.wide.mp4.json`):
 * the fingerprint of its inputs (clips by sha256, stitch settings, the soundtrack) and the
 * file's identity (size, mtime, inode) when it was written. The output folder is untrusted:
 * every path goes through safe-fs, links are never followed.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { O_NOFOLLOW, moveInside, regularFile, removeOwned, writeFileAtomic } from '../safe-fs.js';
import { layerFiles } from './layers.js';
import type { StitchJob, StitchedOutput } from './outputs.js';

/** Bumped when the same inputs would stitch to a different file. */
const RECORD_VERSION = 1;

export interface FinalRecord {
  version: number;
  inputs: string;
  bytes: number;
  mtime_ms: number;
  ino: number;
  duration: number;
  path: StitchedOutput['path'];
  warnings: string[];
  /** What ebur128 measured in the file, when its loudness was normalised. */
  loudness?: StitchedOutput['loudness'];
}

/** The record of a final, relative to the output folder: `.finals/final.wide.mp4.json`. */
function recordName(final: string): string {
  return path.join('.finals', `${path.normalize(final)}.json`);
}

/** Where a final that no longer matches the manifest is moved: `final.wide.stale.mp4`. */
function staleName(final: string): string {
  const ext = path.extname(final);
  return `${final.slice(0, final.length - ext.length)}.stale${ext}`;
}

/**
 * The fingerprint of what a job stitches: every setting, each clip by its sha256 (not its
 * path), a local soundtrack and every file a layer reads (fonts, images, voice-overs) by size
 * and mtime. Same fingerprint, same final.
 */
export async function finalInputs(job: StitchJob, outDir: string, clipSha: readonly string[]) {
  const { output, clips, soundtrack, ...settings } = job.options;
  let track: unknown = soundtrack;
  if (soundtrack && !/^https?:\/\//.test(soundtrack.file)) {
    const info = await lstat(soundtrack.file).catch(() => undefined);
    track = { ...soundtrack, bytes: info?.size ?? null, mtime_ms: info?.mtimeMs ?? null };
  }
  const files = await Promise.all(
    layerFiles(job.options).map(async (file) => {
      const info = await lstat(file).catch(() => undefined);
      return { file, bytes: info?.size ?? null, mtime_ms: info?.mtimeMs ?? null };
    }),
  );
  const described = {
    version: RECORD_VERSION,
    output: path.relative(outDir, output),
    clips: clips.map((c, i) => ({ ...c, file: clipSha[i] })),
    soundtrack: track ?? null,
    settings,
    ...(files.length > 0 ? { files } : {}),
  };
  return createHash('sha256').update(JSON.stringify(described)).digest('hex');
}

async function readRecord(outDir: string, final: string): Promise<FinalRecord | undefined> {
  const rel = recordName(final);
  if (!(await regularFile(outDir, rel))) return undefined;
  try {
    const handle = await open(path.resolve(outDir, rel), constants.O_RDONLY | O_NOFOLLOW);
    try {
      const record = JSON.parse(await handle.readFile('utf8')) as Partial<FinalRecord>;
      return record.version === RECORD_VERSION && typeof record.inputs === 'string'
        ? (record as FinalRecord)
        : undefined;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * The record of `final` when the file on disk is still the one made from `inputs`: same
 * fingerprint, and the same size, mtime and inode as when it was written.
 */
export async function currentFinal(
  outDir: string,
  final: string,
  inputs: string,
): Promise<FinalRecord | undefined> {
  const record = await readRecord(outDir, final);
  if (!record || record.inputs !== inputs) return undefined;
  const info = await regularFile(outDir, final);
  const same =
    info &&
    info.size === record.bytes &&
    info.mtimeMs === record.mtime_ms &&
    info.ino === record.ino;
  return same ? record : undefined;
}

/** Remembers what a final just written was made from. */
export async function recordFinal(
  outDir: string,
  output: StitchedOutput,
  inputs: string,
): Promise<void> {
  const info = await regularFile(outDir, output.file);
  if (!info) return;
  const record: FinalRecord = {
    version: RECORD_VERSION,
    inputs,
    bytes: info.size,
    mtime_ms: info.mtimeMs,
    ino: info.ino,
    duration: output.duration,
    path: output.path,
    warnings: output.warnings,
    ...(output.loudness ? { loudness: output.loudness } : {}),
  };
  await writeFileAtomic(outDir, recordName(output.file), `${JSON.stringify(record)}\n`);
}

/**
 * Moves a final that can no longer be made from the manifest aside, so nobody takes it for
 * current. Only a plain file shotlist made (it has a record, or an earlier report lists it) is
 * moved; a link or a stranger's file is left alone. Returns the new name, if it moved.
 */
export async function moveStaleFinal(
  outDir: string,
  final: string,
  madeBefore: ReadonlySet<string>,
): Promise<string | undefined> {
  if (!(await regularFile(outDir, final))) return undefined;
  const ours =
    madeBefore.has(final) || (await regularFile(outDir, recordName(final))) !== undefined;
  if (!ours) return undefined;
  const stale = staleName(final);
  await moveInside(outDir, final, stale);
  await removeOwned(outDir, recordName(final));
  return stale;
}
