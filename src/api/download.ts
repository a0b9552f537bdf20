/**
 * Streams a result file to `<file>.part` in constant memory, resumes a cut transfer with
 * `Range`, checks the length the server announced, syncs it to disk and renames it into
 * place, so a file under its final name is always complete.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
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
      fix: 'raise the cap with --max-download-mb if the file is expected to be this large',
    },
  );
}

/** A download failure the caller may cure by asking the API for a fresh URL. */
export class DownloadError extends ApiError {}

class RetryDownload extends Error {}

/** `bytes 100-199/2000` → its start and total. */
export function parseContentRange(
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

/** Downloads `url` to `file` through `dispatcher` with no credentials. */
export async function downloadFile(
  dispatcher: Dispatcher,
  url: string,
  file: string,
  options: InternalOptions,
): Promise<DownloadResult> {
  const part = `${file}.part`;
  let have = 0;
  let hash: Hash = createHash('sha256');
  let total: number | undefined;
  let handle: FileHandle | undefined;
  let lastError: unknown;
  try {
    handle = await open(part, 'w');
    for (let attempt = 0; attempt < options.attempts; attempt++) {
      if (attempt > 0)
        await options.sleep(backoffDelay(attempt - 1, options.backoff), options.signal);
      try {
        await fetchInto(url);
        if (total !== undefined && have !== total) {
          throw new RetryDownload(`the transfer stopped at ${have} of ${total} bytes`);
        }
        const done = handle!;
        handle = undefined;
        await done.sync();
        await done.close();
        await rename(part, file);
        await syncDir(path.dirname(file));
        return { file, bytes: have, sha256: hash.digest('hex') };
      } catch (err) {
        if (options.signal?.aborted) throw err;
        if (err instanceof DownloadError) throw err;
        lastError = err;
      }
    }
    throw new DownloadError(
      `downloading ${url} failed after ${options.attempts} attempts: ${String((lastError as Error)?.message ?? lastError)}`,
      {
        code: 'download_failed',
        cause: lastError,
      },
    );
  } catch (err) {
    await handle?.close().catch(() => undefined);
    handle = undefined;
    await rm(part, { force: true });
    throw err;
  }

  async function restart(): Promise<void> {
    have = 0;
    hash = createHash('sha256');
    await handle!.truncate(0);
  }

  async function fetchInto(start: string): Promise<void> {
    let target = new URL(start);
    for (let hop = 0; ; hop++) {
      options.onRequest?.();
      const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
      const res = await dispatcher.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: 'GET',
        headers,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const status = res.statusCode;
      if (status >= 300 && status < 400 && typeof res.headers.location === 'string') {
        await res.body.dump();
        if (hop >= MAX_REDIRECTS)
          throw new DownloadError(`too many redirects for ${start}`, { code: 'download_failed' });
        target = new URL(res.headers.location, target);
        continue;
      }
      if (status === 429 || status >= 500 || status === 408) {
        await res.body.dump();
        throw new RetryDownload(`the file server answered ${status}`);
      }
      if (status === 416) {
        await res.body.dump();
        await restart();
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
        if (!range || range.start !== have) {
          await res.body.dump();
          await restart();
          throw new RetryDownload('the file server resumed at the wrong place');
        }
        total = range.total ?? total;
      } else {
        if (have > 0) await restart();
        const length = Number(res.headers['content-length']);
        total =
          Number.isFinite(length) && res.headers['content-length'] !== undefined
            ? length
            : undefined;
      }
      const cap = options.maxBytes;
      if (cap !== undefined && total !== undefined && total > cap) {
        res.body.destroy();
        throw tooLarge(total, cap);
      }
      // One chunk at a time, awaited: memory stays flat and `have` is exactly what is on disk.
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (cap !== undefined && have + chunk.length > cap) {
          res.body.destroy();
          throw tooLarge(have + chunk.length, cap);
        }
        await handle!.write(chunk, 0, chunk.length, have);
        hash.update(chunk);
        have += chunk.length;
        options.onProgress?.(have, total);
      }
      return;
    }
  }
}
