/**
 * The simulator's memory across restarts: an append-only NDJSON file of accepted tasks (one
 * line each, written before the client gets the id) and the file port it last served on. A
 * simulator started again on the same folder serves the same tasks, so a journal that names
 * them can resume. The folder lives in the output folder, which is untrusted input: symlinks
 * are refused, and every line is checked before it is believed.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../safe-fs.js';
import { checkRequest, type VideoRequest } from '../api/contract.js';
import type { SimTask, TaskError } from './tasks.js';

export const TASKS_FILE = 'tasks.ndjson';
const PORTS_FILE = 'ports.json';
/** Where clips are kept, inside the state folder. */
export const CLIPS_FOLDER = 'clips';
// Lines we write stay under KEPT_BODY_LIMIT plus the essentials; anything far larger is not ours.
const MAX_LINE = 256 * 1024;
const TASK_ID = /^task_[a-z0-9]{1,64}$/;

/** One line of `tasks.ndjson`: a task as it stood when it was accepted. */
interface StoredTask {
  v: 1;
  id: string;
  received_at: number;
  latency_ms: number;
  outcome: 'completed' | 'failed';
  error?: TaskError;
  /** Set when the task started at submission; a task that waited for a slot has none. */
  start_at?: number;
  end_at?: number;
  idempotency_key: string | null;
  fault?: '500' | 'reset';
  account?: string;
  body: VideoRequest;
  body_sha256: string;
  body_bytes: number;
  body_trimmed?: true;
}

function toStored(task: SimTask): StoredTask {
  return {
    v: 1,
    id: task.id,
    received_at: task.receivedAt,
    latency_ms: task.latencyMs,
    outcome: task.outcome,
    ...(task.error ? { error: task.error } : {}),
    ...(task.startAt !== undefined && task.endAt !== undefined
      ? { start_at: task.startAt, end_at: task.endAt }
      : {}),
    idempotency_key: task.idempotencyKey,
    ...(task.fault ? { fault: task.fault } : {}),
    ...(task.account !== undefined ? { account: task.account } : {}),
    body: task.body,
    body_sha256: task.bodySha256,
    body_bytes: task.bodyBytes,
    ...(task.bodyTrimmed ? { body_trimmed: true as const } : {}),
  };
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isShortString = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length <= max;

/** A stored line back as a task, or undefined when it is not one we could have written. */
function fromStored(value: unknown): SimTask | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as Partial<StoredTask>;
  const started = isTime(s.start_at) && isTime(s.end_at) && s.end_at >= s.start_at;
  const ok =
    s.v === 1 &&
    typeof s.id === 'string' &&
    TASK_ID.test(s.id) &&
    isTime(s.received_at) &&
    isTime(s.latency_ms) &&
    (s.outcome === 'completed' || s.outcome === 'failed') &&
    (s.outcome === 'completed' ||
      (isShortString(s.error?.message, 1000) && isShortString(s.error.code, 100))) &&
    (s.idempotency_key === null || isShortString(s.idempotency_key, 1000)) &&
    (s.fault === undefined || s.fault === '500' || s.fault === 'reset') &&
    (s.account === undefined ||
      (isShortString(s.account, 100) && /^acct_[0-9a-f]+$/.test(s.account))) &&
    // The same contract as a POST: a stored body makes clips (ffmpeg) just as a sent one does.
    checkRequest(s.body).every((p) => p.severity !== 'error') &&
    typeof s.body_sha256 === 'string' &&
    isTime(s.body_bytes);
  if (!ok) return undefined;
  return {
    id: s.id!,
    body: s.body!,
    bodySha256: s.body_sha256!,
    bodyBytes: s.body_bytes!,
    bodyTrimmed: s.body_trimmed === true,
    receivedAt: s.received_at!,
    idempotencyKey: s.idempotency_key ?? null,
    fault: s.fault,
    ...(s.account !== undefined ? { account: s.account } : {}),
    latencyMs: s.latency_ms!,
    outcome: s.outcome!,
    error: s.outcome === 'failed' ? s.error : undefined,
    startAt: started ? s.start_at : undefined,
    endAt: started ? s.end_at : undefined,
  };
}

/** Makes `dir` (if missing) and refuses it when it is anything but a real folder. */
async function realFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.isSymbolicLink()) {
    throw new UsageError(
      `the simulator state folder ${dir} is not a folder (a symlink or a file is there)`,
      'remove it, or give the simulator another state folder',
    );
  }
}

/** The lines of `handle`; a line over MAX_LINE bytes is skipped without ever being held whole. */
async function* boundedLines(handle: FileHandle): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of handle.createReadStream({ autoClose: false })) {
    const bytes = chunk as Buffer;
    let start = 0;
    for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
      const piece = bytes.subarray(start, nl);
      if (size + piece.length <= MAX_LINE) yield Buffer.concat([...parts, piece]).toString('utf8');
      parts = [];
      size = 0;
      start = nl + 1;
    }
    const rest = bytes.subarray(start);
    size += rest.length;
    if (size > MAX_LINE) parts = [];
    else if (rest.length > 0) parts.push(Buffer.from(rest));
  }
  if (size > 0 && size <= MAX_LINE) yield Buffer.concat(parts).toString('utf8');
}

/** The tasks stored under `dir`, oldest first; unreadable or foreign lines are skipped. */
export async function readStoredTasks(dir: string): Promise<SimTask[]> {
  const file = path.join(dir, TASKS_FILE);
  let handle: FileHandle;
  try {
    // Non-blocking, so a FIFO planted there cannot hang the open.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const tasks: SimTask[] = [];
  try {
    if (!(await handle.stat()).isFile()) {
      throw new UsageError(
        `the simulator's task file ${file} is not a regular file`,
        'remove it, or give the simulator another state folder',
      );
    }
    for await (const line of boundedLines(handle)) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue; // a line torn by a crash mid-write, or an empty one
      }
      const task = fromStored(value);
      if (task) tasks.push(task);
    }
  } finally {
    await handle.close();
  }
  return tasks;
}

async function readFilePort(dir: string): Promise<number | undefined> {
  try {
    const info = await lstat(path.join(dir, PORTS_FILE));
    if (!info.isFile() || info.size > 1024) return undefined;
    const port = (
      JSON.parse(await readFile(path.join(dir, PORTS_FILE), 'utf8')) as {
        file_port?: unknown;
      }
    ).file_port;
    return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536
      ? port
      : undefined;
  } catch {
    return undefined;
  }
}

/** An open state folder: what an earlier process left, and where this one writes. */
export class SimState {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly tasks: SimTask[],
    /** The file port an earlier process served on, so the URLs it gave out work again. */
    readonly filePort: number | undefined,
    private readonly handle: FileHandle,
  ) {}

  /** Opens (or creates) the state under `dir`; refuses symlinks where it writes. */
  static async open(dir: string): Promise<SimState> {
    await realFolder(dir);
    await realFolder(path.join(dir, CLIPS_FOLDER));
    const tasks = await readStoredTasks(dir);
    const handle = await open(
      path.join(dir, TASKS_FILE),
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o644,
    );
    // A line torn by a crash must not glue itself to the next one.
    const { size } = await handle.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      const reader = await open(
        path.join(dir, TASKS_FILE),
        constants.O_RDONLY | constants.O_NOFOLLOW,
      );
      try {
        await reader.read(last, 0, 1, size - 1);
      } finally {
        await reader.close();
      }
      if (last[0] !== 0x0a) await handle.write('\n');
    }
    return new SimState(dir, tasks, await readFilePort(dir), handle);
  }

  /**
   * Appends a task as it stands now (call it right after it is accepted, before its id is
   * answered). One write per line, in order; resolves when the line is written.
   */
  append(task: SimTask): Promise<void> {
    const line = `${JSON.stringify(toStored(task))}\n`;
    const write = this.writes.then(async () => {
      await this.handle.write(line);
    });
    this.writes = write.catch(() => {});
    return write;
  }

  /** Remembers the file port (temporary file, then rename: never half written). */
  async saveFilePort(port: number): Promise<void> {
    await writeFileAtomic(this.dir, PORTS_FILE, JSON.stringify({ file_port: port }));
  }

  /** Waits for the writes under way and closes the file. */
  async close(): Promise<void> {
    await this.writes;
    await this.handle.close();
  }
}
