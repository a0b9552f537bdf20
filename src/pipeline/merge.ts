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
import { oneFolderApi, recordFolderApi } from './folder-api.js';
import { folderLookup } from './job.js';
import { constants } from 'node:fs';
import { copyFile, link, lstat, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { stripControls } from '../api/redact.js';
import { UsageError, type Advice } from '../errors.js';
import { shotLabel } from '../manifest/identity.js';
import { JOURNAL_FILE, readJournal, type JournalEntry, type ShotRef } from '../render/journal.js';
import type { MergedSpend } from './merge-check.js';
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
  /** Lines of a shard folder about requests it did not submit (see {@link ownLines}). */
  foreign?: number;
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
  /** With `manifest`: the campaign's spend over the merged journal, and the shots left to do. */
  spend?: MergedSpend;
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
    throw new UsageError(`no shard folder at ${dir}`, { kind: 'give_shard_folders' });
  }
  const source = await readSource(dir);
  // A shard with no shots (more shards than shots) wrote its report and no journal.
  if (source.entries.length === 0 && !(await regularFile(dir, REPORT_FILE))) {
    throw new UsageError(
      `${stripControls(dir)} holds no journal (${JOURNAL_FILE}) and no ${REPORT_FILE}: it is not the output folder of a run`,
      { kind: 'give_shard_run_folders' },
    );
  }
  const { kept, dropped } = ownLines(source.entries);
  return { ...source, entries: kept, foreign: dropped };
}

/**
 * The lines of a shard folder that are about its own requests: an intent, and the lines that
 * follow one of its intents for the same key; a `file` line only after the folder's own
 * `completed` line for that task, with a well-formed sha256 and size. Anything else (a line
 * for a request another folder submitted, an upload record, a clip no completion of its own
 * vouches for) is left out: a folder can speak only for what it sent.
 */
export function ownLines(entries: readonly JournalEntry[]): {
  kept: JournalEntry[];
  /** Lines left out that are not upload records (those are never carried: not a warning). */
  dropped: number;
} {
  const submitted = new Set<string>();
  const completed = new Map<string, string>();
  const kept: JournalEntry[] = [];
  let uploads = 0;
  for (const e of entries) {
    if (e.type === 'upload') {
      // Where a local file was uploaded is the shard's own business: the merged folder's
      // next run uploads what it needs again. Left out, without calling it foreign.
      uploads += 1;
      continue;
    }
    if (e.type === 'intent') {
      submitted.add(e.key);
      completed.delete(e.key);
    } else if (!submitted.has(e.key)) {
      continue;
    } else if (e.type === 'completed') {
      completed.set(e.key, e.task_id);
    } else if (e.type === 'file') {
      const vouched = completed.get(e.key) === e.task_id && typeof e.task_id === 'string';
      const sized = Number.isSafeInteger(e.bytes) && e.bytes >= 0;
      if (!vouched || !isSha256(e.sha256) || !sized) continue;
    }
    kept.push(e);
  }
  return { kept, dropped: entries.length - kept.length - uploads };
}

/** Per journal key of a source: its lines, its intent lines and the shot its intent names. */
function linesByKey(
  source: Source,
): Map<string, { lines: Set<string>; intents: Set<string>; shot: ShotRef }> {
  const byKey = new Map<string, { lines: Set<string>; intents: Set<string>; shot: ShotRef }>();
  for (const e of source.entries) {
    let seen = byKey.get(e.key);
    if (!seen) {
      if (e.type !== 'intent') continue;
      seen = { lines: new Set<string>(), intents: new Set<string>(), shot: e.shot };
      byKey.set(e.key, seen);
    }
    const line = JSON.stringify(e);
    seen.lines.add(line);
    if (e.type === 'intent') seen.intents.add(line);
  }
  return byKey;
}

const within = (a: Set<string>, b: Set<string>) => [...a].every((line) => b.has(line));
const same = (a: Set<string>, b: Set<string>) => a.size === b.size && within(a, b);

/** `s06 (request 3f2a…)`, cleaned: both come from an untrusted journal. */
function requestLabel(key: string, shot: ShotRef): string {
  const ref = shot as Partial<ShotRef> | undefined;
  const label = shotLabel({
    id: String(ref?.id),
    variant: typeof ref?.variant === 'string' ? ref.variant : null,
    take: Number(ref?.take) || 1,
  });
  return stripControls(`${label} (request ${key.slice(0, 12)})`);
}

/**
 * Requests whose lines come from two folders, each as `label in A and B: why`. Two shard
 * folders may hold one request only with the very same lines (a folder given twice); a shard
 * folder may hold a request the output folder already has (an earlier merge) only when it
 * adds no line to it. Anything else is a request paid twice, or a folder altered or run on
 * after the merge: the merge cannot tell which lines to believe.
 */
export function renderedTwice(own: Source, shards: readonly Source[]): string[] {
  const found: string[] = [];
  const mine = linesByKey(own);
  const seen = new Map<string, { dir: string; lines: Set<string>; intents: Set<string> }>();
  const clash = (key: string, shot: ShotRef, a: string, b: string, paid: boolean) =>
    found.push(
      `${requestLabel(key, shot)} in ${stripControls(a)} and ${stripControls(b)}: ${paid ? 'submitted in both (paid twice)' : 'journaled differently (a folder altered, or run on after a merge)'}`,
    );
  for (const shard of shards) {
    for (const [key, its] of linesByKey(shard)) {
      const out = mine.get(key);
      if (out && !within(its.lines, out.lines)) {
        clash(key, its.shot, own.dir, shard.dir, !within(its.intents, out.intents));
        continue;
      }
      const earlier = seen.get(key);
      if (!earlier) seen.set(key, { dir: shard.dir, ...its });
      else if (!same(earlier.lines, its.lines)) {
        clash(key, its.shot, earlier.dir, shard.dir, !same(earlier.intents, its.intents));
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
 * Clips a shard folder holds whose bytes differ from the sha256 (or size) its own journal
 * records: the folder was altered after its run, so none of it is merged. A clip that is
 * simply absent is no reason to refuse (the next run downloads it again, no new task).
 */
async function alteredClips(shards: readonly Source[]): Promise<string[]> {
  const found: string[] = [];
  for (const shard of shards) {
    for (const e of shard.entries) {
      if (e.type !== 'file') continue;
      const rel = storePath(e.sha256);
      if (!(await regularFile(shard.dir, rel))) continue;
      if (await fileMatches(shard.dir, rel, e)) continue;
      const shot = shard.entries.find((i) => i.type === 'intent' && i.key === e.key);
      const label = shot?.type === 'intent' ? requestLabel(e.key, shot.shot) : e.key.slice(0, 12);
      found.push(
        `${stripControls(label)} in ${stripControls(shard.dir)}: ${rel} does not match the sha256 its journal records`,
      );
    }
  }
  return found;
}

/** Refuses the merge (exit 2, nothing written) with every problem found, one a line. */
function refuse(problems: readonly string[], what: string, fix: string | Advice): void {
  if (problems.length === 0) return;
  throw new UsageError(`${what}; nothing was merged:\n  ${problems.join('\n  ')}`, fix);
}

export interface MergeOptions {
  /** Checks that each folder holds only the requests of the shard it says it rendered. */
  manifest?: string;
  cwd?: string;
}

/**
 * Merges shard output folders into `outDir` (which may already hold a journal, e.g. an
 * earlier merge). Each shard folder speaks only for the requests it submitted
 * ({@link ownLines}); the merge is refused, writing nothing, when a request's lines come from
 * two folders, when a folder's clip differs from its journal, or (with `manifest`) when a
 * folder holds another shard's requests. Else it copies the verified clips into the store and
 * writes the merged journal atomically. Merging the same folders again changes nothing.
 */
export async function mergeShards(
  outDir: string,
  shardDirs: readonly string[],
  options: MergeOptions = {},
): Promise<MergeResult> {
  if (shardDirs.length === 0) {
    throw new UsageError('merge needs shard folders', 'shotlist merge <out> <shard folder>...');
  }
  const out = path.resolve(outDir);
  const hasOut = await checkFolder(out, 'output folder');
  const own = hasOut ? await readSource(out) : { dir: out, entries: [], skipped: 0 };
  const shards: Source[] = [];
  for (const dir of shardDirs) shards.push(await readShard(path.resolve(dir)));
  // One folder, one API: folders of different APIs are never joined.
  const api = await oneFolderApi(
    await Promise.all(
      [...(hasOut ? [out] : []), ...shards.map((s) => s.dir)].map(async (dir) => ({
        dir,
        journal: await readJournal(path.join(dir, JOURNAL_FILE)),
      })),
    ),
  );
  const twice = renderedTwice(own, shards);
  refuse(
    twice,
    `${twice.length} request${twice.length === 1 ? ' has' : 's have'} journal lines in two folders`,
    { kind: 'merge_each_once' },
  );
  if (options.manifest !== undefined) {
    const { misplacedRequests } = await import('./merge-check.js');
    // The picks (extra takes) of the folders' API say which takes the manifest has.
    const misplaced = await misplacedRequests(options.manifest, shards, {
      cwd: options.cwd,
      base: api,
    });
    refuse(
      misplaced,
      `${misplaced.length} request${misplaced.length === 1 ? ' in a shard folder does' : 's in shard folders do'} not belong to the shard the folder holds`,
      { kind: 'leave_out_misplaced' },
    );
  }
  const altered = await alteredClips(shards);
  refuse(
    altered,
    `${altered.length} clip${altered.length === 1 ? ' in a shard folder differs from its' : 's in shard folders differ from their'} journal`,
    'leave out the altered folder, or render that shard again into a fresh folder',
  );
  const { result, merged } = await writeMerge(own, shards);
  if (api !== undefined) await recordFolderApi(out, api);
  if (options.manifest === undefined) return result;
  const { mergedSpend } = await import('./merge-check.js');
  // Priced as the merged folder's API's job (its record, else its journal).
  const { base } = await folderLookup(out);
  const spend = await mergedSpend(options.manifest, merged, { cwd: options.cwd, base });
  return { ...result, spend };
}

/** The clips, then the journal (it never names a clip the store does not hold yet). */
async function writeMerge(
  own: Source,
  shards: readonly Source[],
): Promise<{ result: MergeResult; merged: JournalEntry[] }> {
  const out = own.dir;
  const merged = mergeEntries([own, ...shards]);
  const clips = await importClips(shards, out);
  const text = merged.map((e) => `${JSON.stringify(e)}\n`).join('');
  const before = own.entries.map((e) => `${JSON.stringify(e)}\n`).join('');
  if (text !== before || own.skipped > 0) await writeFileAtomic(out, JOURNAL_FILE, text);
  const notes = [...shards, own]
    .filter((s) => s.skipped > 0)
    .map((s) => `${stripControls(s.dir)}: ${s.skipped} unreadable journal line(s) left out`);
  for (const s of shards) {
    if (s.foreign) {
      notes.push(
        `${stripControls(s.dir)}: ${s.foreign} journal line(s) about requests it did not submit (or clips without its own completion) left out`,
      );
    }
  }
  if (clips.missing > 0) {
    notes.push(
      `${clips.missing} clip(s) missing in the shard folders: the next run downloads them again (no new task)`,
    );
  }
  const result = {
    outDir: out,
    shards: shards.length,
    entries: merged.length,
    added: merged.length - own.entries.length,
    clips,
    notes,
  };
  return { result, merged };
}
