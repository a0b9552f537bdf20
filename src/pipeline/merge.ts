/**
 * `shotlist merge`: joins the output folders of `run --shard i/n` jobs into one output folder,
 * after which `stitch`, `status` and `run` (which then sends nothing and writes the report)
 * work on it as on one unsharded run. Every shard folder is untrusted input (an artifact
 * downloaded from CI): its journal is read without following links, its clips are copied only
 * when their bytes match the sha256 its journal records, and only into the clip store
 * (`clips/.store/<sha256>.mp4`); the named clips are derived from the manifest's shots and
 * linked from the store by the next command that looks at them, never from a path a journal
 * names.
 */
import { constants } from 'node:fs';
import { copyFile, link, lstat, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { stripControls } from '../api/redact.js';
import { UsageError } from '../errors.js';
import { shotLabel } from '../plan/label.js';
import { JOURNAL_FILE, readJournal, type JournalEntry, type ShotRef } from '../render/journal.js';
import { fileMatches, hashFile, isSha256, storePath } from '../render/store.js';
import {
  ensureDir,
  insideRoot,
  refuseLink,
  regularFile,
  tempName,
  writeFileAtomic,
} from '../safe-fs.js';

/** What every run writes (report/write.ts), even one with nothing to render. */
const REPORT_FILE = 'report.json';

/** One journal taking part in a merge: the output folder's own, or a shard's. */
interface Source {
  dir: string;
  entries: JournalEntry[];
  /** Lines that could not be read (a torn last line, a damaged one): left out. */
  skipped: number;
}

export interface MergeResult {
  outDir: string;
  /** Shard folders merged. */
  shards: number;
  /** Lines of the merged journal, and how many of them the output folder did not have. */
  entries: number;
  added: number;
  /** Verified clips copied into the store, already there, or missing or damaged in a shard. */
  clips: { copied: number; present: number; missing: number };
  /** Notes for people: journal lines left out, clips that will be downloaded again. */
  notes: string[];
}

/** A folder given on the command line: it must be a real folder, not a link to one. */
async function checkFolder(dir: string, what: string): Promise<boolean> {
  const info = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!info) return false;
  if (info.isSymbolicLink() || !info.isDirectory()) {
    throw new UsageError(
      `${what} ${dir} is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}`,
      'give the folder itself (shotlist never follows links in output folders)',
    );
  }
  return true;
}

async function readSource(dir: string): Promise<Source> {
  const journal = await readJournal(path.join(dir, JOURNAL_FILE));
  return {
    dir,
    entries: journal.entries,
    skipped: journal.badLines + (journal.torn ? 1 : 0),
  };
}

async function readShard(dir: string): Promise<Source> {
  if (!(await checkFolder(dir, 'shard folder'))) {
    throw new UsageError(`no shard folder at ${dir}`, 'give the --out folders of the shard runs');
  }
  const source = await readSource(dir);
  // A shard with no shots (more shards than shots) wrote its report and no journal.
  if (source.entries.length === 0 && !(await regularFile(dir, REPORT_FILE))) {
    throw new UsageError(
      `${dir} holds no journal (${JOURNAL_FILE}) and no ${REPORT_FILE}: it is not the output folder of a run`,
      'give the folders that `shotlist run --shard i/n` wrote (each job uploads its folder)',
    );
  }
  return source;
}

/** Per journal key, the submissions (intent lines) a source holds. */
function submissions(source: Source): Map<string, { lines: Set<string>; shot: ShotRef }> {
  const byKey = new Map<string, { lines: Set<string>; shot: ShotRef }>();
  for (const e of source.entries) {
    if (e.type !== 'intent') continue;
    const seen = byKey.get(e.key) ?? { lines: new Set<string>(), shot: e.shot };
    byKey.set(e.key, seen);
    seen.lines.add(JSON.stringify(e));
  }
  return byKey;
}

const within = (a: Set<string>, b: Set<string>) => [...a].every((line) => b.has(line));

/**
 * Request bodies submitted in two folders: paid twice, and the merge cannot tell which render
 * is meant. The same submissions seen twice (a folder merged again, the output folder holding
 * an earlier merge of a shard) are one render, not two.
 */
export function renderedTwice(sources: readonly Source[]): string[] {
  const found: string[] = [];
  const seen = new Map<string, { dir: string; lines: Set<string> }>();
  for (const source of sources) {
    for (const [key, mine] of submissions(source)) {
      const earlier = seen.get(key);
      if (!earlier) {
        seen.set(key, { dir: source.dir, lines: mine.lines });
      } else if (!within(mine.lines, earlier.lines) && !within(earlier.lines, mine.lines)) {
        const ref = mine.shot as Partial<ShotRef>;
        const label = stripControls(
          shotLabel({
            id: String(ref.id),
            variant: typeof ref.variant === 'string' ? ref.variant : null,
            take: Number(ref.take) || 1,
          }),
        );
        found.push(`${label} (request ${key.slice(0, 12)}) in ${earlier.dir} and ${source.dir}`);
      } else if (within(earlier.lines, mine.lines)) {
        seen.set(key, { dir: source.dir, lines: mine.lines });
      }
    }
  }
  return found;
}

/**
 * Every source's entries in time order, each source's own order kept (a k-way merge on `at`,
 * ties to the earlier source), as the union of multisets: a line several sources hold appears
 * as often as the source holding it most often has it, so merging again adds nothing.
 */
export function mergeEntries(sources: readonly Source[]): JournalEntry[] {
  const at = (e: JournalEntry) => (Number.isFinite(e.at) ? e.at : 0);
  const heads = sources.map(() => 0);
  const emitted = new Map<string, number>();
  const counts = sources.map(() => new Map<string, number>());
  const merged: JournalEntry[] = [];
  for (;;) {
    let pick = -1;
    for (let i = 0; i < sources.length; i++) {
      const e = sources[i]!.entries[heads[i]!];
      if (e && (pick < 0 || at(e) < at(sources[pick]!.entries[heads[pick]!]!))) pick = i;
    }
    if (pick < 0) return merged;
    const entry = sources[pick]!.entries[heads[pick]!++]!;
    const line = JSON.stringify(entry);
    const mine = (counts[pick]!.get(line) ?? 0) + 1;
    counts[pick]!.set(line, mine);
    if (mine > (emitted.get(line) ?? 0)) {
      emitted.set(line, mine);
      merged.push(entry);
    }
  }
}

/**
 * Copies one verified clip of a shard into the output folder's store: a hard link where the
 * file system allows, else a copy, checked against its sha256 after it landed, then renamed.
 */
async function importClip(
  from: string,
  to: string,
  clip: { sha256: string; bytes: number },
): Promise<'copied' | 'present' | 'missing'> {
  const rel = storePath(clip.sha256);
  if (await fileMatches(to, rel, clip)) return 'present';
  if (!(await fileMatches(from, rel, clip))) return 'missing';
  const source = await refuseLink(from, rel);
  await ensureDir(to, path.dirname(rel));
  const tmp = insideRoot(to, tempName(rel));
  try {
    await link(source, tmp).catch(() => copyFile(source, tmp, constants.COPYFILE_EXCL));
    if ((await hashFile(tmp)) !== clip.sha256) {
      await unlink(tmp);
      return 'missing';
    }
    await rename(tmp, await refuseLink(to, rel));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return 'copied';
}

async function importClips(
  shards: readonly Source[],
  outDir: string,
): Promise<MergeResult['clips']> {
  const clips = { copied: 0, present: 0, missing: 0 };
  const done = new Set<string>();
  for (const shard of shards) {
    for (const e of shard.entries) {
      if (e.type !== 'file' || !isSha256(e.sha256) || done.has(e.sha256)) continue;
      if (!Number.isSafeInteger(e.bytes) || e.bytes < 0) continue;
      const outcome = await importClip(shard.dir, outDir, { sha256: e.sha256, bytes: e.bytes });
      if (outcome === 'missing') continue;
      done.add(e.sha256);
      clips[outcome]++;
    }
  }
  // A clip one shard lacks may come from another: missing is what no shard could give.
  const named = shards.flatMap((s) =>
    s.entries.flatMap((e) => (e.type === 'file' && isSha256(e.sha256) ? [e.sha256] : [])),
  );
  clips.missing = new Set(named.filter((h) => !done.has(h))).size;
  return clips;
}

/**
 * Merges shard output folders into `outDir` (which may already hold a journal, e.g. an
 * earlier merge): refuses, writing nothing, when a request was submitted in two of them;
 * else copies their verified clips into the store and writes the merged journal atomically.
 * Merging the same folders again changes nothing.
 */
export async function mergeShards(
  outDir: string,
  shardDirs: readonly string[],
): Promise<MergeResult> {
  if (shardDirs.length === 0) {
    throw new UsageError('merge needs shard folders', 'shotlist merge <out> <shard folder>...');
  }
  const out = path.resolve(outDir);
  const hasOut = await checkFolder(out, 'output folder');
  const own = hasOut ? await readSource(out) : { dir: out, entries: [], skipped: 0 };
  const shards: Source[] = [];
  for (const dir of shardDirs) shards.push(await readShard(path.resolve(dir)));
  const twice = renderedTwice([own, ...shards]);
  if (twice.length > 0) {
    throw new UsageError(
      `${twice.length} request${twice.length === 1 ? ' was' : 's were'} submitted in two folders (paid twice); nothing was merged:\n  ${twice.join('\n  ')}`,
      'merge each shot from one folder only: leave out the folder that rendered it again (were two jobs given the same --shard?)',
    );
  }
  const merged = mergeEntries([own, ...shards]);
  const clips = await importClips(shards, out);
  const text = merged.map((e) => `${JSON.stringify(e)}\n`).join('');
  const before = own.entries.map((e) => `${JSON.stringify(e)}\n`).join('');
  // The journal last: it never names a clip the store does not hold yet.
  if (text !== before || own.skipped > 0) await writeFileAtomic(out, JOURNAL_FILE, text);
  const notes = [...shards, own]
    .filter((s) => s.skipped > 0)
    .map((s) => `${s.dir}: ${s.skipped} unreadable journal line(s) left out`);
  if (clips.missing > 0) {
    notes.push(
      `${clips.missing} clip(s) missing or damaged in the shard folders: the next run downloads them again (no new task)`,
    );
  }
  return {
    outDir: out,
    shards: shards.length,
    entries: merged.length,
    added: merged.length - own.entries.length,
    clips,
    notes,
  };
}
