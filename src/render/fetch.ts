/**
 * Phase three of a shot: fetch the finished task's file (asking for a fresh link first when
 * the known one may have expired), verify it, file it in the clip store and journal it. A file
 * that cannot be fetched leaves the task done: the next run fetches it without paying.
 */
import { ApiError } from '../errors.js';
import { insideRoot, removeOwned, tempName } from '../safe-fs.js';
import {
  errorOf,
  failShot,
  isUnauthorized,
  leavePending,
  record,
  say,
  type ShotContext,
} from './context.js';
import type { ShotError } from './events.js';
import type { ShotResult } from './result.js';
import { STORE_DIR, storeClip } from './store.js';

const ATTEMPTS = 3;
/** Progress events of one download, at most one per this many milliseconds. */
const PROGRESS_EVERY_MS = 250;

/** Asks the API for the task's current link; `undefined` ends the shot (the run stops). */
async function freshUrl(
  ctx: ShotContext,
  taskId: string,
  known: string | undefined,
): Promise<{ url: string | undefined } | undefined> {
  try {
    const task = await ctx.client.getTask(taskId, { signal: ctx.signal });
    return { url: task.metadata?.url ?? known };
  } catch (err) {
    if (ctx.signal.aborted) return undefined;
    if (isUnauthorized(err)) {
      ctx.halt(err);
      return undefined;
    }
    return { url: known };
  }
}

/**
 * Fetches, verifies and stores the clip of the finished task `taskId`; `knownUrl` is the
 * link the task gave when it completed, absent when it must be asked for again.
 */
export async function fetchClip(
  ctx: ShotContext,
  taskId: string,
  knownUrl: string | undefined,
): Promise<ShotResult> {
  const started = ctx.now();
  let url = knownUrl;
  let lastError: ShotError | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (ctx.signal.aborted) return leavePending(ctx, taskId, 'interrupted');
    if (attempt > 0 || !url) {
      // The link may have expired: ask the API for a fresh one.
      const fresh = await freshUrl(ctx, taskId, url);
      if (!fresh) return leavePending(ctx, taskId, 'interrupted');
      url = fresh.url;
      if (!url) continue;
    }
    let got = await downloadOnce(ctx, taskId, url);
    if ('file' in got) {
      try {
        return await stored(ctx, taskId, got.file, started);
      } catch (err) {
        got = missed(ctx, err);
      }
    }
    if (got.error === 'interrupted') return leavePending(ctx, taskId, 'interrupted');
    lastError = got.error;
    if (got.final) break;
  }
  const error = lastError ?? {
    code: 'download_failed',
    message: 'the task has no file to download',
  };
  await record(ctx, {
    type: 'download_failed',
    key: ctx.shot.key,
    task_id: taskId,
    message: error.message,
    at: ctx.now(),
  });
  return failShot(ctx, {
    ...error,
    message: `${error.message} (task ${taskId} is done; run again to fetch it without paying)`,
  });
}

type Fetched = NonNullable<ShotResult['file']>;

/** One download into the store folder, verified and filed under the shot's clip name. */
async function downloadOnce(
  ctx: ShotContext,
  taskId: string,
  url: string,
): Promise<{ file: Fetched } | Missed> {
  const { outDir, shot: a } = ctx;
  // An unguessable name of this run in the store folder: the download never writes where
  // a planted link could wait (`clips/<id>.mp4.part`), and only its own file is removed.
  const tmp = tempName(`${STORE_DIR}/download.mp4`, '.mp4');
  const abs = insideRoot(outDir, tmp);
  const discard = () => Promise.all([removeOwned(outDir, tmp), removeOwned(outDir, `${tmp}.part`)]);
  let lastProgress = 0;
  say(ctx, { type: 'downloading', taskId, bytes: 0, total: undefined });
  try {
    const got = await ctx.client.download(url, abs, {
      signal: ctx.signal,
      onProgress: (bytes, total) => {
        const t = ctx.now();
        if (t - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = t;
        say(ctx, { type: 'downloading', taskId, bytes, total });
      },
    });
    try {
      await ctx.verify?.(abs, a.shot);
    } catch (err) {
      await discard();
      return { error: { ...errorOf(err, 'verify_failed'), code: 'verify_failed' } };
    }
    await storeClip(outDir, tmp, got.sha256, a.clip, ctx.hashes);
    return { file: { path: a.clip, bytes: got.bytes, sha256: got.sha256 } };
  } catch (err) {
    await discard().catch(() => undefined);
    return missed(ctx, err);
  }
}

/** A download that did not bring a clip; `final` when another attempt cannot help. */
type Missed = { error: 'interrupted' } | { error: ShotError; final?: boolean };

function missed(ctx: ShotContext, err: unknown): Missed {
  if (ctx.signal.aborted) return { error: 'interrupted' };
  if (err instanceof ApiError && err.code === 'download_too_large') {
    // A fresh link to the same file would be just as large.
    return { error: errorOf(err, 'download_too_large'), final: true };
  }
  return { error: { ...errorOf(err, 'download_failed'), code: 'download_failed' } };
}

/** The verified clip is in place: journaled, and the shot is done. */
async function stored(
  ctx: ShotContext,
  taskId: string,
  file: Fetched,
  started: number,
): Promise<ShotResult> {
  const { result } = ctx;
  result.downloadedAt = ctx.now();
  await record(ctx, {
    type: 'file',
    key: ctx.shot.key,
    task_id: taskId,
    ...file,
    at: result.downloadedAt,
  });
  result.file = file;
  result.status = 'done';
  say(ctx, { type: 'downloaded', taskId, file: file.path, bytes: file.bytes, sha256: file.sha256 });
  say(ctx, {
    type: 'done',
    taskId,
    file: file.path,
    elapsedMs: ctx.now() - started,
    cached: false,
  });
  return result;
}
