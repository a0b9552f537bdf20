/**
 * The run lock: one `run` at a time per output folder, so two terminals can never both submit
 * the same shot. The lock is a file in the output folder naming the process that holds it
 * (pid and host), created exclusively and never through a link; a lock left by a process of
 * this host that is gone (a crash, a kill -9) is taken over, and the caller is told, and the
 * drafts such a process left while taking the lock are removed.
 */
import { constants } from 'node:fs';
import { link, lstat, open, readdir, readFile, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { EXIT_CODES, ShotlistError } from '../errors.js';
import {
  ensureDir,
  insideRoot,
  O_NOFOLLOW,
  regularFile,
  removeOwned,
  UnsafePathError,
} from '../safe-fs.js';

export const LOCK_FILE = '.shotlist.lock';

/** What the lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Milliseconds since the epoch. */
  since: number;
}

/** A lock this process holds. */
export interface RunLock {
  file: string;
  /** The holder of a stale lock this process took over. */
  tookOver?: LockHolder;
  release(): Promise<void>;
}

export interface LockDeps {
  pid: number;
  host: string;
  now: () => number;
  /** Whether a process of this host is running. */
  alive: (pid: number) => boolean;
}

/** Whether `pid` is a running process here: signal 0 checks without sending anything. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const DEFAULT_DEPS: LockDeps = {
  pid: process.pid,
  host: hostname(),
  now: Date.now,
  alive: processAlive,
};

/** The error of a folder another run holds: exit 2, nothing sent. */
export class RunLockedError extends ShotlistError {
  readonly holder: LockHolder | undefined;

  constructor(outDir: string, file: string, holder: LockHolder | undefined) {
    const who = holder
      ? `shotlist run ${holder.pid} on ${holder.host}, since ${new Date(holder.since).toISOString()}`
      : 'a shotlist run (its lock file is unreadable)';
    super(`another run is using ${outDir} (${who}); nothing was sent`, {
      code: 'run_locked',
      exitCode: EXIT_CODES.badInput,
      advice: { kind: 'wait_for_run', lockFile: file },
    });
    this.holder = holder;
  }
}

function readHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    const ok =
      Number.isInteger(v.pid) &&
      (v.pid ?? 0) > 0 &&
      typeof v.host === 'string' &&
      typeof v.since === 'number';
    return ok ? (v as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the lock file exclusively, whole: the holder is written to a file of its own first,
 * then linked in place (a link never replaces a file, and appears with its content), so a
 * process killed at any moment leaves no empty lock behind. False when the lock exists.
 */
async function create(file: string, holder: LockHolder): Promise<boolean> {
  const draft = `${file}.${holder.pid}.${randomBytes(6).toString('hex')}`;
  const handle = await open(
    draft,
    constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | O_NOFOLLOW,
    0o644,
  );
  try {
    try {
      await handle.writeFile(`${JSON.stringify(holder)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(draft, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/** A draft of the lock: `.shotlist.lock.<pid>.<12 hex>`, with the pid of the process writing it. */
const DRAFT = /^\.shotlist\.lock\.(\d+)\.[0-9a-f]{12}$/;

/** How old a draft must be before it counts as left behind (a live one exists for microseconds). */
const DRAFT_AGE_MS = 60_000;

/**
 * Removes the drafts of the lock that processes killed while taking it left behind: a plain
 * file, named as a draft, older than a minute, of a process that is not running here.
 */
async function removeLeftDrafts(outDir: string, deps: LockDeps): Promise<void> {
  const names = await readdir(outDir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(DRAFT.exec(name)?.[1]);
    if (!pid || pid === deps.pid || deps.alive(pid)) continue;
    const info = await regularFile(outDir, name);
    if (info && deps.now() - info.mtimeMs > DRAFT_AGE_MS) await removeOwned(outDir, name);
  }
}

/**
 * Takes the output folder's run lock, or throws a {@link RunLockedError} naming its holder.
 * A lock of this host whose process is gone is stale: it is removed and taken (`tookOver`).
 */
export async function acquireRunLock(
  outDir: string,
  deps: LockDeps = DEFAULT_DEPS,
): Promise<RunLock> {
  await ensureDir(outDir, '.');
  const file = insideRoot(outDir, LOCK_FILE);
  const me: LockHolder = { pid: deps.pid, host: deps.host, since: deps.now() };
  let tookOver: LockHolder | undefined;
  while (!(await create(file, me))) {
    if ((await lstat(file)).isSymbolicLink()) throw new UnsafePathError(file, 'it is a link');
    const holder = readHolder(await readFile(file, 'utf8').catch(() => ''));
    const stale =
      holder !== undefined &&
      !tookOver &&
      holder.host === deps.host &&
      holder.pid !== deps.pid &&
      !deps.alive(holder.pid);
    if (!stale) throw new RunLockedError(outDir, file, holder);
    tookOver = holder;
    await unlink(file).catch(() => undefined);
  }
  await removeLeftDrafts(outDir, deps);
  let released = false;
  return {
    file,
    ...(tookOver ? { tookOver } : {}),
    release: async () => {
      if (released) return;
      released = true;
      await unlink(file).catch(() => undefined);
    },
  };
}
