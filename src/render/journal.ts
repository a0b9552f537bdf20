/**
 * The render journal: an append-only NDJSON file in the output folder that remembers, per
 * shot, the intent to submit, the task id (synced to disk the moment it is known), each status
 * change and the verified file. It is what makes a run resumable and a re-run free.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { TASK_ID, type TaskStatus } from '../api/types.js';
import { cleanServerText, redactKnown, stripControls } from '../api/redact.js';
import { readBackBaseUrl } from '../api/url.js';
import { O_NOFOLLOW, UnsafePathError } from '../safe-fs.js';

export const JOURNAL_FILE = 'journal.ndjson';

/** Which planned request an entry is about. */
export interface ShotRef {
  id: string;
  variant: string | null;
  take: number;
}

/** Every line of the journal. `key` is {@link journalKey} of the shot's request. */
export type JournalEntry =
  /**
   * About to POST; `gen` counts deliberate re-renders, `idem` is the Idempotency-Key sent,
   * `base` the API base URL of the key (absent in journals written before it was recorded).
   * `model` and `seconds` price it later (`shotlist cost`); older journals lack them.
   * `account`: the pool account (`--accounts`) the POST went to; absent for the single key.
   * `unit_price` and `currency`: the price per second in force when it was sent (null: none),
   * so editing `pricing` later never re-prices it; older journals lack them.
   */
  | {
      type: 'intent';
      key: string;
      shot: ShotRef;
      gen: number;
      idem: string;
      base?: string;
      account?: string;
      model?: string;
      seconds?: number;
      unit_price?: number | null;
      currency?: string | null;
      at: number;
    }
  | { type: 'task'; key: string; task_id: string; at: number }
  | {
      type: 'status';
      key: string;
      task_id: string;
      status: TaskStatus;
      progress?: number;
      at: number;
    }
  /**
   * `seconds`: what the completed task bills (the API's figure when it gives one, else the
   * plan's); `reported_seconds` and `usage`: what the API itself said, when it said it.
   */
  | {
      type: 'completed';
      key: string;
      task_id: string;
      url: string;
      seconds?: number;
      reported_seconds?: number;
      usage?: Record<string, number>;
      at: number;
    }
  /** The task ended failed, or the API refused the request (`task_id` absent). */
  | { type: 'failed'; key: string; task_id?: string; code?: string; message: string; at: number }
  /** The POST may or may not have created a task. */
  | { type: 'unknown'; key: string; message: string; at: number }
  /** The task finished but its file could not be fetched or verified (it can be fetched again). */
  | { type: 'download_failed'; key: string; task_id: string; message: string; at: number }
  /**
   * The verified file. `path` is where it was placed, for people reading the journal: shotlist
   * never reads it back (clip paths are derived from the shot, the store's from `sha256`).
   */
  /** A local asset file uploaded (or found already there): `key` is its sha256, `url` where it lives. */
  | { type: 'upload'; key: string; url: string; bytes: number; at: number }
  /**
   * The done shot of key `from` (another API's) counted as done for `key`, of the API `base`
   * (`shotlist rebase`): its clip is the same content. No task, so nothing billed to `base`.
   */
  | { type: 'carried'; key: string; from: string; shot: ShotRef; base: string; at: number }
  | {
      type: 'file';
      key: string;
      task_id: string;
      path: string;
      bytes: number;
      sha256: string;
      at: number;
    };

/** Where a shot stands according to the journal. */
export type JournalPhase =
  /** Intent written, no task id: a crash during the POST; the task may exist. */
  'submitting' | 'submitted' | 'completed' | 'failed' | 'unknown' | 'downloaded';

/** The journal folded into one record per key (the latest generation). */
export interface JournalShot {
  key: string;
  shot: ShotRef;
  gen: number;
  idem: string;
  /** The API base URL the task was sent to, when the journal recorded it. */
  base?: string;
  /** The pool account that holds the task (`--accounts`); absent for the single key. */
  account?: string;
  phase: JournalPhase;
  taskId?: string;
  status?: TaskStatus;
  progress?: number;
  url?: string;
  file?: { path: string; bytes: number; sha256: string };
  error?: { code?: string; message: string };
  /** The seconds the API reported billing for its completed task, when it did. */
  reportedSeconds?: number;
  usage?: Record<string, number>;
  /** Tasks of this key, over every generation, that the API created and that ended failed. */
  failedTasks?: number;
  intentAt: number;
  submittedAt?: number;
  completedAt?: number;
  downloadedAt?: number;
}

/**
 * The `Idempotency-Key` of a submission: stable for one generation, so a resubmission of an
 * `unknown` shot lets a server that honours the header answer with the first task.
 */
export function idempotencyKey(key: string, gen: number): string {
  return `shotlist-${createHash('sha256').update(`${key}:${gen}`).digest('hex').slice(0, 40)}`;
}

export interface ParsedJournal {
  entries: JournalEntry[];
  /** Bytes up to the end of the last complete line. */
  validLength: number;
  /** A partial or unreadable last line (a kill during a write) was found. */
  torn: boolean;
  /** Complete lines in the middle that could not be read (skipped). */
  badLines: number;
}

function isEntry(value: unknown): value is JournalEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { type?: unknown; key?: unknown };
  return typeof v.type === 'string' && typeof v.key === 'string';
}

function cleanValue(value: unknown): unknown {
  if (typeof value === 'string') return redactKnown(stripControls(value));
  if (Array.isArray(value)) return value.map(cleanValue);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [stripControls(k), cleanValue(v)]),
  );
}

/**
 * An entry as read back: anyone who can write the output folder wrote it. Every string is
 * stripped of terminal escapes and control bytes and redacted; a message is cut short; a base
 * URL is normalised, and one that is not an http(s) URL is kept as cleaned text (compared,
 * shown, never used as an address).
 */
function cleanEntry(entry: JournalEntry): JournalEntry {
  const clean = cleanValue(entry) as JournalEntry & { base?: unknown; message?: unknown };
  const raw = entry as { base?: unknown; message?: unknown };
  if (typeof raw.base === 'string') clean.base = readBackBaseUrl(raw.base);
  if (typeof raw.message === 'string')
    clean.message = redactKnown(cleanServerText(raw.message, []));
  return clean;
}

/** Reads journal text; a torn last line is reported, not fatal. */
export function parseJournal(text: string): ParsedJournal {
  const entries: JournalEntry[] = [];
  let offset = 0;
  let validLength = 0;
  let badLines = 0;
  let torn = false;
  const bytes = Buffer.from(text, 'utf8');
  while (offset < bytes.length) {
    const nl = bytes.indexOf(0x0a, offset);
    const end = nl === -1 ? bytes.length : nl;
    const line = bytes.subarray(offset, end).toString('utf8').trim();
    let parsed: unknown;
    let ok = false;
    if (line !== '') {
      try {
        parsed = JSON.parse(line);
        ok = isEntry(parsed);
      } catch {
        ok = false;
      }
    }
    if (nl === -1) {
      // No newline: the writer died mid-line. Even if it parses, it was never acknowledged.
      if (line !== '') torn = true;
      break;
    }
    if (ok) entries.push(cleanEntry(parsed as JournalEntry));
    else if (line !== '') badLines++;
    offset = nl + 1;
    validLength = offset;
  }
  return { entries, validLength, torn, badLines };
}

/** A done shot of another API carried over to `entry.base` (its clip, not its task or bill). */
function carriedShot(
  entry: Extract<JournalEntry, { type: 'carried' }>,
  from: JournalShot,
): JournalShot {
  return {
    key: entry.key,
    shot: entry.shot,
    gen: from.gen,
    idem: from.idem,
    base: entry.base,
    phase: 'downloaded',
    ...(from.taskId !== undefined ? { taskId: from.taskId } : {}),
    status: 'completed',
    ...(from.url !== undefined ? { url: from.url } : {}),
    file: { ...from.file! },
    intentAt: entry.at,
    ...(from.completedAt !== undefined ? { completedAt: from.completedAt } : {}),
    downloadedAt: entry.at,
  };
}

/** Folds entries into the latest state of each key. */
export function foldJournal(entries: readonly JournalEntry[]): Map<string, JournalShot> {
  const shots = new Map<string, JournalShot>();
  // Counted across generations: a body the API keeps failing is given up on (see state.ts).
  const failedTasks = new Map<string, Set<string>>();
  for (const e of entries) {
    if (e.type === 'failed' && e.task_id !== undefined) {
      const ids = failedTasks.get(e.key) ?? new Set<string>();
      failedTasks.set(e.key, ids.add(e.task_id));
    }
    if (e.type === 'carried') {
      const from = shots.get(e.from);
      if (from?.phase === 'downloaded' && from.file) shots.set(e.key, carriedShot(e, from));
      continue;
    }
    if (e.type === 'intent') {
      shots.set(e.key, {
        key: e.key,
        shot: e.shot,
        gen: e.gen,
        idem: e.idem,
        ...(e.base !== undefined ? { base: e.base } : {}),
        ...(e.account !== undefined ? { account: e.account } : {}),
        phase: 'submitting',
        intentAt: e.at,
      });
      continue;
    }
    const s = shots.get(e.key);
    if (!s) continue;
    switch (e.type) {
      case 'task':
        if (!TASK_ID.test(e.task_id)) {
          // The API never gives such an id: the line was written by hand. The request was sent
          // and may have made (and billed) a task, so the shot is unknown, never resubmitted
          // as if it had failed.
          if (s.phase === 'submitting') s.phase = 'unknown';
          s.error = {
            code: 'unknown',
            message:
              'the task id journaled for it is not one the API gives; a task may have been made and billed',
          };
          break;
        }
        s.taskId = e.task_id;
        s.phase = 'submitted';
        s.submittedAt = e.at;
        delete s.error;
        break;
      case 'status':
        if (s.phase === 'submitted') {
          s.status = e.status;
          if (e.progress !== undefined) s.progress = e.progress;
        }
        break;
      case 'completed':
        s.taskId = e.task_id;
        s.url = e.url;
        s.completedAt = e.at;
        s.status = 'completed';
        if (s.phase !== 'downloaded') s.phase = 'completed';
        if (e.reported_seconds !== undefined) s.reportedSeconds = e.reported_seconds;
        else delete s.reportedSeconds;
        if (e.usage !== undefined) s.usage = e.usage;
        else delete s.usage;
        break;
      case 'failed':
        s.phase = 'failed';
        if (e.task_id !== undefined) s.taskId = e.task_id;
        s.error = { ...(e.code !== undefined ? { code: e.code } : {}), message: e.message };
        break;
      case 'unknown':
        if (s.phase === 'submitting') s.phase = 'unknown';
        s.error = { code: 'unknown', message: e.message };
        break;
      case 'download_failed':
        s.error = { code: 'download_failed', message: e.message };
        break;
      case 'file':
        s.phase = 'downloaded';
        s.file = { path: e.path, bytes: e.bytes, sha256: e.sha256 };
        s.downloadedAt = e.at;
        delete s.error;
        break;
    }
  }
  for (const [key, ids] of failedTasks) {
    const s = shots.get(key);
    if (s) s.failedTasks = ids.size;
  }
  return shots;
}

/** A journal that is a link or not a plain file (a FIFO would hang the read) is refused. */
async function refuseOther(file: string): Promise<void> {
  const info = await lstat(file);
  if (info.isSymbolicLink()) throw new UnsafePathError(file, 'it is a symbolic link');
  if (!info.isFile()) throw new UnsafePathError(file, 'it is not a plain file');
}

const unsafe = (file: string, err: unknown) =>
  (err as NodeJS.ErrnoException).code === 'ELOOP'
    ? new UnsafePathError(file, 'it is a symbolic link')
    : err;

/**
 * Reads and folds a journal file; a missing file is an empty journal, a link is refused (it
 * is never followed, for reading or appending).
 */
export async function readJournal(file: string): Promise<ReadJournal> {
  let data = Buffer.alloc(0);
  try {
    await refuseOther(file);
    const handle = await open(file, constants.O_RDONLY | O_NOFOLLOW);
    try {
      data = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unsafe(file, err);
  }
  const parsed = parseJournal(data.toString('utf8'));
  return { ...parsed, shots: foldJournal(parsed.entries), bytes: data.length };
}

/** A journal as read from its file. */
export interface ReadJournal extends ParsedJournal {
  shots: Map<string, JournalShot>;
  /** The file's size when it was read (0: there was none). */
  bytes: number;
}

/** The size of a journal file now (0: there is none), without reading it. */
export async function journalSize(file: string): Promise<number> {
  try {
    return (await lstat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/**
 * A journal read once by a command and kept in step with what the command appends to it: a
 * run reads its journal once, then knows every entry without reading the file again.
 */
export interface LiveJournal {
  readonly file: string;
  /** The entries read, then those appended since, as reading them back would give them. */
  readonly entries: readonly JournalEntry[];
  /** The file as read ended in a torn line (cut off when the journal is first opened). */
  readonly torn: boolean;
  /** The latest state of each key, from every entry. */
  shots(): Map<string, JournalShot>;
  /** Opens the file for appending; the first opening cuts off a torn last line. */
  open(): Promise<JournalWriter>;
}

/** The live journal of `file`, as `read` found it. */
export function liveJournal(file: string, read: ParsedJournal): LiveJournal {
  const entries = [...read.entries];
  let cut = false;
  return {
    file,
    entries,
    torn: read.torn,
    shots: () => foldJournal(entries),
    async open() {
      const writer = await openJournal(file, cut ? undefined : read.validLength);
      cut = true;
      return {
        append(entry, options) {
          const written = writer.append(entry, options);
          entries.push(cleanEntry(JSON.parse(JSON.stringify(entry)) as JournalEntry));
          return written;
        },
        close: () => writer.close(),
      };
    },
  };
}

/** Appends entries; `durable` ones resolve only once they are synced to disk. */
export interface JournalWriter {
  append(entry: JournalEntry, options?: { durable?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a journal for appending, first cutting off a torn last line. Writes are serialised
 * and grouped: entries arriving while a sync is under way share the next one, so 64 shots
 * finishing at once cost a handful of syncs, not 64.
 */
export async function openJournal(file: string, validLength?: number): Promise<JournalWriter> {
  await refuseOther(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | O_NOFOLLOW;
  const handle: FileHandle = await open(file, flags).catch((err: unknown) => {
    throw unsafe(file, err);
  });
  if (validLength !== undefined) await handle.truncate(validLength);
  type Pending = {
    line: string;
    durable: boolean;
    resolve: () => void;
    reject: (e: unknown) => void;
  };
  let queue: Pending[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;

  const flush = async () => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await handle.write(batch.map((p) => p.line).join(''));
        if (batch.some((p) => p.durable)) await handle.datasync();
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    flushing = undefined;
  };

  return {
    append(entry, options = {}) {
      if (closed) return Promise.reject(new Error('the journal is closed'));
      return new Promise<void>((resolve, reject) => {
        queue.push({
          line: `${JSON.stringify(entry)}\n`,
          durable: options.durable ?? true,
          resolve,
          reject,
        });
        flushing ??= flush();
      });
    },
    async close() {
      closed = true;
      await flushing;
      await handle.close();
    },
  };
}
