/**
 * The API an output folder renders for. A folder belongs to one API (the simulator is an API
 * of its own): its clips, finals, report and money are that API's, so a command for another
 * one (a rehearsal, a typo in `--base-url`, another gateway) is refused before it sends or
 * writes anything. The API is recorded in `folder.json` (the base URL only, never a key); a
 * folder made before the record existed is read from its journal.
 */
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { stripControls } from '../api/redact.js';
import { baseUrlHost, readBackBaseUrl } from '../api/url.js';
import { UsageError } from '../errors.js';
import { basesHoldingTasks } from '../render/cost.js';
import {
  JOURNAL_FILE,
  readJournal,
  type JournalEntry,
  type JournalShot,
} from '../render/journal.js';
import { O_NOFOLLOW, regularFile, writeFileAtomic } from '../safe-fs.js';
import { SIMULATOR_BASE, sameBase } from './base.js';
import { journalBases } from './clips.js';
import { defaultOutDir } from './out-dir.js';
import type { ShardSpec } from './shard.js';

/** The record of an output folder's API, beside its journal. */
export const FOLDER_FILE = 'folder.json';

/** The API of a folder, and where that was read. */
export interface FolderApi {
  base: string;
  /** `record`: folder.json; `journal`: the journal's last API (a folder of an older release). */
  from: 'record' | 'journal';
  /**
   * Whether the folder belongs to that API: it may hold one of the folder's tasks. A folder
   * whose API refused every request before creating anything (a typo in `--base-url`) is not
   * tied to it: a run for another API takes it over.
   */
  tied: boolean;
}

/** A journal as {@link folderApi} reads it. */
type FolderJournalView = { shots: Map<string, JournalShot>; entries: readonly JournalEntry[] };

/** The recorded base, cleaned as every folder string is; undefined without a readable record. */
async function recordedBase(outDir: string): Promise<string | undefined> {
  if (!(await regularFile(outDir, FOLDER_FILE))) return undefined;
  try {
    // Never through a link planted there (the folder is untrusted), read or not.
    const handle = await open(path.join(outDir, FOLDER_FILE), constants.O_RDONLY | O_NOFOLLOW);
    const text = await handle.readFile('utf8').finally(() => handle.close());
    const raw = JSON.parse(text) as unknown;
    const base = (raw as { base?: unknown } | null)?.base;
    return typeof base === 'string' && base !== '' ? readBackBaseUrl(base) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The API a folder renders for: its record, else its journal's last real API (else the
 * simulator); undefined for neither.
 */
export async function folderApi(
  outDir: string,
  journal?: FolderJournalView,
): Promise<FolderApi | undefined> {
  const recorded = await recordedBase(outDir);
  const read = journal ?? (await readJournal(path.join(outDir, JOURNAL_FILE)));
  const held = [...basesHoldingTasks(read.entries)];
  const holds = (base: string) => held.some((h) => sameBase(h, base));
  if (recorded !== undefined) return { base: recorded, from: 'record', tied: holds(recorded) };
  // A folder an earlier release shared between a rehearsal and real runs belongs to the real
  // API: its clips and money are real, a rehearsal is free to make again elsewhere.
  const bases = journalBases(read.shots);
  const tied = bases.filter(holds);
  const last =
    tied.find((b) => b !== SIMULATOR_BASE) ??
    tied[0] ??
    bases.find((b) => b !== SIMULATOR_BASE) ??
    bases[0];
  return last === undefined ? undefined : { base: last, from: 'journal', tied: holds(last) };
}

/** Records `base` as the folder's API (atomically), unless the record already says so. */
export async function recordFolderApi(outDir: string, base: string): Promise<void> {
  const recorded = await recordedBase(outDir);
  if (recorded !== undefined && sameBase(recorded, base)) return;
  await writeFileAtomic(outDir, FOLDER_FILE, `${JSON.stringify({ base }, null, 2)}\n`);
}

/**
 * An API as a message names it: the simulator, or the host of an http(s) URL (never the whole
 * URL, which may carry credentials); `other` distinguishes two bases of one host.
 */
export function apiName(base: string, other?: string): string {
  if (base === SIMULATOR_BASE) return 'the simulator';
  const host = baseUrlHost(base);
  if (host === undefined) return 'an address that is not an http(s) URL';
  const path = (b: string) => {
    try {
      return new URL(b).pathname.replace(/\/+$/, '');
    } catch {
      return '';
    }
  };
  if (other !== undefined && baseUrlHost(other) === host && path(other) !== path(base)) {
    return `${host} (path ${path(base) || '/'})`;
  }
  return host;
}

/**
 * Refuses (exit 2) a command for `base` on a folder of another API, before anything is sent or
 * written, naming both APIs and the ways out.
 */
export function refuseOtherApi(
  outDir: string,
  folder: FolderApi | undefined,
  base: string,
  manifestArg = '<manifest>',
): void {
  if (folder === undefined || !folder.tied || sameBase(folder.base, base)) return;
  const theirs = apiName(folder.base, base);
  const ours = apiName(base, folder.base);
  // Simulated clips are placeholders: a folder moves only between real APIs.
  const movable = base !== SIMULATOR_BASE && folder.base !== SIMULATOR_BASE;
  throw new UsageError(
    `${outDir} renders for ${theirs}${folder.from === 'journal' ? ' (its journal)' : ''}, not ${ours}: nothing was sent or written`,
    {
      kind: 'folder_of_another_api',
      // Advice names the folder's API, never a URL read from the folder.
      folder: { api: apiName(folder.base), simulated: folder.base === SIMULATOR_BASE },
      ours: { api: ours, simulated: base === SIMULATOR_BASE },
      ...(movable ? { rebase: manifestArg } : {}),
    },
  );
}

/** Reads the folder's API and refuses a command for another one. */
export async function checkFolderApi(
  outDir: string,
  base: string,
  journal?: FolderJournalView,
): Promise<FolderApi | undefined> {
  const folder = await folderApi(outDir, journal);
  refuseOtherApi(outDir, folder, base);
  return folder;
}

/**
 * The line saying a run for `base` takes over a folder its recorded API never held a task of
 * (every request refused before reaching it); undefined when it does not.
 */
export function takeOverNote(
  outDir: string,
  folder: FolderApi | undefined,
  base: string,
): string | undefined {
  if (folder === undefined || folder.tied || sameBase(folder.base, base)) return undefined;
  return `note: ${stripControls(outDir)} was for ${apiName(folder.base, base)}, which holds none of its tasks (every request was refused before reaching it): it now renders for ${apiName(base, folder.base)}`;
}

/**
 * The output folder of a command without `--out`: `renders/<name>` next to the manifest, and
 * `renders/<name>.simulated` for a simulated one, so a rehearsal and a real run never meet.
 * A folder of an older release, where simulated runs went to `renders/<name>`, is still used
 * when it holds only simulated renders and no `.simulated` folder exists yet (and `note` says so).
 */
export async function outDirOf(
  manifest: { file: string; name: string },
  options: {
    simulate?: boolean | undefined;
    shard?: ShardSpec | undefined;
    note?: ((line: string) => void) | undefined;
  },
): Promise<string> {
  const plain = defaultOutDir(manifest, options.shard);
  if (!options.simulate) return plain;
  const simulated = defaultOutDir(manifest, options.shard, { simulated: true });
  if (await exists(simulated)) return simulated;
  const journal = await readJournal(path.join(plain, JOURNAL_FILE)).catch(() => undefined);
  const folder = journal ? await folderApi(plain, journal) : undefined;
  const bases = journal ? journalBases(journal.shots) : [];
  if (folder?.base === SIMULATOR_BASE && bases.every((b) => b === SIMULATOR_BASE)) {
    options.note?.(
      `note: ${plain} holds simulated renders of an earlier release: using it (new simulated folders are ${path.basename(simulated)})`,
    );
    return plain;
  }
  return simulated;
}

async function exists(dir: string): Promise<boolean> {
  return lstat(dir).then(
    () => true,
    () => false,
  );
}

/**
 * Refuses (exit 2) to join folders of different APIs (`merge`): each folder's API, one a line.
 * Returns the one API they share, when any of them names one.
 */
export async function oneFolderApi(
  folders: readonly { dir: string; journal: FolderJournalView }[],
): Promise<string | undefined> {
  const apis = await Promise.all(folders.map(async (f) => folderApi(f.dir, f.journal)));
  // A folder its API never held a task of is tied to none.
  const known = apis.flatMap((a, i) => (a?.tied ? [{ dir: folders[i]!.dir, base: a.base }] : []));
  const first = known[0];
  if (first === undefined || known.every((k) => sameBase(k.base, first.base))) return first?.base;
  throw new UsageError(
    `the folders render for different APIs; nothing was merged:\n  ${known
      .map((k) => `${stripControls(k.dir)}: ${apiName(k.base)}`)
      .join('\n  ')}`,
    'merge the folders of one API only (an output folder belongs to one API; see shotlist rebase)',
  );
}

/** Whether the default simulated folder beside a manifest's renders holds a journal. */
export async function simulatedFolderBeside(
  manifest: { file: string; name: string },
  options: { shard?: ShardSpec | undefined },
): Promise<boolean> {
  const dir = defaultOutDir(manifest, options.shard, { simulated: true });
  return (await regularFile(dir, JOURNAL_FILE)) !== undefined;
}
