/**
 * Streams a result file to `<file>.part` in constant memory, resumes a cut transfer with
 * `Range`, checks the length the server announced, syncs it to disk and renames it into
 * place, so a file under its final name is always complete. The file host is untrusted: the
 * whole download has a deadline, a transfer slower than a floor is cut, and no symlink at the
 * `.part` or final path is ever followed.
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { ApiError } from '../errors.js';
import { backoffDelay, type BackoffOptions } from './retry.js';

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Refuse a file larger than this many bytes (default: no cap). */
  maxBytes?: number;
  /** Bytes written so far and the total when the server said it. */
  onProgress?: (bytes: number, total: number | undefined) => void;
}

export interface DownloadResult {
  file: string;
  bytes: number;
  sha256: string;
}

interface InternalOptions extends DownloadOptions {
  attempts: number;
  /** The whole download, retries included, ends by then. Default: no deadline. */
  deadlineMs?: number;
  /** An attempt bringing fewer than `bytesPerSec` over a `windowMs` window is cut. */
  minThroughput?: { bytesPerSec: number; windowMs: number };
  backoff: BackoffOptions;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  onRequest?: () => void;
}

const MAX_REDIRECTS = 5;

function tooLarge(bytes: number, cap: number): DownloadError {
  return new DownloadError(
    `the video is ${bytes > cap ? 'over' : 'at'} ${bytes} bytes, larger than the download cap of ${cap} bytes`,
    {
      code: 'download_too_large',
      advice: { kind: 'raise_download_cap' },
    },
  );
}

/** A download failure the caller may cure by asking the API for a fresh URL. */
export class DownloadError extends ApiError {}

class RetryDownload extends Error {}

/** `bytes 100-199/2000` → its start and total. */
function parseContentRange(
  value: string | undefined,
): { start: number; total: number | undefined } | undefined {
  const match = /^bytes\s+(\d+)-\d+\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!match?.[1]) return undefined;
  return { start: Number(match[1]), total: match[2] === '*' ? undefined : Number(match[2]) };
}

/** Syncs a directory so a rename in it survives a power cut; not every platform allows it. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/** What lstat says is at `file`: nothing, a regular file, or something shotlist must not touch. */
async function kindAt(file: string): Promise<'none' | 'file' | 'other'> {
  try {
    const s = await lstat(file);
    return s.isFile() ? 'file' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw err;
  }
}

function unsafePath(file: string): DownloadError {
  return new DownloadError(
    `${file} is a symlink or a folder, not a file shotlist made; it was left alone`,
    {
      code: 'unsafe_path',
      fix: 'remove it from the output folder and run again',
    },
  );
}

/**
 * Creates `part` for writing, never through a link: a leftover regular `.part` (a cut run's)
 * is removed, anything else at either path is refused, and the open is exclusive and does
 * not follow a link planted between the check and the open.
 */
async function createPart(file: string, part: string): Promise<FileHandle> {
  if ((await kindAt(file)) === 'other') throw unsafePath(file);
  const existing = await kindAt(part);
  if (existing === 'other') throw unsafePath(part);
  if (existing === 'file') await unlink(part);
  try {
    return await open(
      part,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
      0o644,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ELOOP') throw unsafePath(part);
    throw err;
  }
}

/**
 * Cuts a transfer through `cut` when fewer than `bytesPerSec` arrived over the last window.
 * Returns the function that stops watching.
 */
function watchThroughput(
  received: () => number,
  floor: { bytesPerSec: number; windowMs: number } | undefined,
  cut: AbortController,
): () => void {
  if (!floor) return () => undefined;
  let mark = received();
  const timer = setInterval(() => {
    const got = received() - mark;
    mark = received();
    if (got < (floor.bytesPerSec * floor.windowMs) / 1000) {
      cut.abort(
        new RetryDownload(
          `the file server sent ${got} bytes in ${floor.windowMs / 1000} s, below the floor of ${floor.bytesPerSec} bytes/s`,
        ),
      );
    }
  }, floor.windowMs);
  return () => clearInterval(timer);
}

/** What has reached the `.part` file so far, and its running hash. */
class Part {
  have = 0;
  /** Bytes received over every attempt (the throughput floor watches it). */
  received = 0;
  total: number | undefined;
  hash: Hash = createHash('sha256');

  constructor(readonly handle: FileHandle) {}

  /** Starts the file over: the server cannot resume where it stopped. */
  async restart(): Promise<void> {
    this.have = 0;
    this.hash = createHash('sha256');
    await this.handle.truncate(0);
  }

  async append(chunk: Buffer): Promise<void> {
    await this.handle.write(chunk, 0, chunk.length, this.have);
    this.hash.update(chunk);
    this.have += chunk.length;
    this.received += chunk.length;
  }
}

/** A signal that fires when the whole download is over its deadline (never without one). */
function deadlineOf(options: InternalOptions): { signal: AbortSignal; clear: () => void } {
  const deadline = new AbortController();
  if (options.deadlineMs === undefined) return { signal: deadline.signal, clear: () => undefined };
  const timer = setTimeout(
    () =>
      deadline.abort(
        new DownloadError(
          `downloading the video took longer than ${Math.round(options.deadlineMs! / 1000)} s`,
          {
            code: 'download_timeout',
            fix: 'the file server is too slow; run again later to fetch it without paying',
          },
        ),
      ),
    options.deadlineMs,
  );
  return { signal: deadline.signal, clear: () => clearTimeout(timer) };
}

/** Downloads `url` to `file` through `dispatcher` with no credentials. */
export async function downloadFile(
  dispatcher: Dispatcher,
  url: string,
  file: string,
  options: InternalOptions,
): Promise<DownloadResult> {
  const partFile = `${file}.part`;
  let part: Part | undefined;
  const deadline = deadlineOf(options);
  // The caller's Ctrl-C and the deadline end every wait and every transfer.
  const outer = options.signal
    ? AbortSignal.any([options.signal, deadline.signal])
    : deadline.signal;
  try {
    part = new Part(await createPart(file, partFile));
    const result = await attempts(dispatcher, url, part, options, outer);
    part = undefined;
    await rename(partFile, file);
    await syncDir(path.dirname(file));
    return { file, ...result };
  } catch (err) {
    await part?.handle.close().catch(() => undefined);
    // Only a .part this call created: a refused path was left alone.
    if (!(err instanceof DownloadError && err.code === 'unsafe_path'))
      await rm(partFile, { force: true });
    if (deadline.signal.aborted && !options.signal?.aborted) throw deadline.signal.reason;
    throw err;
  } finally {
    deadline.clear();
  }
}

/** Tries the transfer up to `options.attempts` times; the part file is synced and closed after. */
async function attempts(
  dispatcher: Dispatcher,
  url: string,
  part: Part,
  options: InternalOptions,
  outer: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < options.attempts; attempt++) {
    if (attempt > 0) await options.sleep(backoffDelay(attempt - 1, options.backoff), outer);
    const cut = new AbortController();
    const unwatch = watchThroughput(() => part.received, options.minThroughput, cut);
    try {
      await fetchInto(dispatcher, url, part, options, AbortSignal.any([outer, cut.signal])).catch(
        (err: unknown) => {
          throw cut.signal.aborted && !outer.aborted ? cut.signal.reason : err;
        },
      );
      if (part.total !== undefined && part.have !== part.total) {
        throw new RetryDownload(`the transfer stopped at ${part.have} of ${part.total} bytes`);
      }
      await part.handle.sync();
      await part.handle.close();
      return { bytes: part.have, sha256: part.hash.digest('hex') };
    } catch (err) {
      if (outer.aborted) throw err;
      if (err instanceof DownloadError) throw err;
      lastError = err;
    } finally {
      unwatch();
    }
  }
  throw new DownloadError(
    `downloading ${url} failed after ${options.attempts} attempts: ${String((lastError as Error)?.message ?? lastError)}`,
    { code: 'download_failed', cause: lastError },
  );
}

/** One GET, following redirects, streamed into `part` (resumed with Range when it has bytes). */
async function fetchInto(
  dispatcher: Dispatcher,
  start: string,
  part: Part,
  options: InternalOptions,
  signal: AbortSignal,
): Promise<void> {
  let target = new URL(start);
  for (let hop = 0; ; hop++) {
    options.onRequest?.();
    const headers: Record<string, string> = part.have > 0 ? { range: `bytes=${part.have}-` } : {};
    const res = await dispatcher.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers,
      signal,
    });
    const status = res.statusCode;
    if (status >= 300 && status < 400 && typeof res.headers.location === 'string') {
      await res.body.dump();
      if (hop >= MAX_REDIRECTS)
        throw new DownloadError(`too many redirects for ${start}`, { code: 'download_failed' });
      target = new URL(res.headers.location, target);
      continue;
    }
    await acceptResponse(res, part);
    const cap = options.maxBytes;
    if (cap !== undefined && part.total !== undefined && part.total > cap) {
      res.body.destroy();
      throw tooLarge(part.total, cap);
    }
    // One chunk at a time, awaited: memory stays flat and `have` is exactly what is on disk.
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if (cap !== undefined && part.have + chunk.length > cap) {
        res.body.destroy();
        throw tooLarge(part.have + chunk.length, cap);
      }
      await part.append(chunk);
      options.onProgress?.(part.have, part.total);
    }
    return;
  }
}

/**
 * Checks a (non-redirect) answer before its body is read: retries what may pass, refuses what
 * will not, and sets where the body goes (a resumed range, or the file from the start).
 */
async function acceptResponse(res: Dispatcher.ResponseData, part: Part): Promise<void> {
  const status = res.statusCode;
  if (status === 429 || status >= 500 || status === 408) {
    await res.body.dump();
    throw new RetryDownload(`the file server answered ${status}`);
  }
  if (status === 416) {
    await res.body.dump();
    await part.restart();
    throw new RetryDownload('the file server refused the resume range');
  }
  if (status !== 200 && status !== 206) {
    await res.body.dump();
    throw new DownloadError(`the file server answered ${status} for the video`, {
      code: 'download_failed',
      status,
      fix: 'the link may have expired; run again to ask the API for a fresh one',
    });
  }
  if (status === 206) {
    const range = parseContentRange(String(res.headers['content-range'] ?? ''));
    if (!range || range.start !== part.have) {
      await res.body.dump();
      await part.restart();
      throw new RetryDownload('the file server resumed at the wrong place');
    }
    part.total = range.total ?? part.total;
    return;
  }
  if (part.have > 0) await part.restart();
  const length = Number(res.headers['content-length']);
  part.total =
    Number.isFinite(length) && res.headers['content-length'] !== undefined ? length : undefined;
}
