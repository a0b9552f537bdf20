/**
 * The simulator fetching references as the real service does: every http(s) reference on a
 * loopback host is downloaded when the task is submitted, and a task whose reference cannot
 * be fetched (or whose image is not an image) fails. References on other hosts are accepted
 * unchecked, so the reference's example URLs work offline. The first image of an
 * image-to-video or first/last-frame task is kept, content-addressed, for its clip.
 */
import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requestMode, type VideoRequest } from '../api/contract.js';
import { undici } from '../api/undici.js';
import { isLoopbackHost } from '../api/url.js';
import { withAtomicFile } from '../safe-fs.js';
import type { TaskError } from './tasks.js';

/** An image a clip starts from, as a local file named by its content. */
export interface ReferenceImage {
  file: string;
  sha256: string;
}

export type ReferenceCheck = { ok: true; image?: ReferenceImage } | { ok: false; error: TaskError };

/** The code of a task failed because a reference could not be used. */
export const REFERENCE_ERROR_CODE = 'invalid_reference';
const MAX_BYTES = 30 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_REDIRECTS = 3;

/** The image formats a clip can start from, by their first bytes. */
function imageExtension(head: Buffer): string | undefined {
  if (head.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpg';
  if (
    head.subarray(0, 4).toString('latin1') === 'RIFF' &&
    head.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'webp';
  if (head.subarray(0, 2).toString('latin1') === 'BM') return 'bmp';
  return undefined;
}

function onLoopback(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
      isLoopbackHost(parsed.hostname)
    );
  } catch {
    return false;
  }
}

/** GETs a loopback URL (following loopback redirects) into memory; a sentence when it fails. */
async function download(url: string, signal: AbortSignal): Promise<Buffer | string> {
  let current = url;
  for (let hops = 0; hops <= MAX_REDIRECTS; hops++) {
    let res;
    try {
      res = await undici().request(current, {
        method: 'GET',
        signal: AbortSignal.any([signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
        headers: { 'user-agent': 'seedance-sim' },
      });
    } catch (error) {
      return `could not be fetched (${(error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError' ? 'no answer in time' : (error as Error).message})`;
    }
    const location = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
      await res.body.dump();
      current = new URL(location, current).href;
      if (!onLoopback(current)) return 'redirects away from this machine';
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      return `could not be fetched (HTTP ${res.statusCode})`;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BYTES) {
        res.body.destroy();
        return `is over ${MAX_BYTES / 1024 / 1024} MB`;
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }
  return 'redirects too many times';
}

const FIELDS = [
  ['images', 'image'],
  ['metadata.video_urls', 'video'],
  ['metadata.audio_urls', 'audio'],
] as const;

function listOf(body: VideoRequest, field: (typeof FIELDS)[number][0]): unknown[] {
  const list = field === 'images' ? body.images : body.metadata?.[field.slice('metadata.'.length)];
  return Array.isArray(list) ? list : [];
}

/** Fetches and keeps reference images under `dir`, named by their sha256. */
export class ReferenceFetcher {
  constructor(
    private readonly dir: string,
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Fetches every loopback reference of `body`; the first failure is the task's error.
   * Returns the image the clip starts from, for image-to-video and first/last frame.
   */
  async check(body: VideoRequest): Promise<ReferenceCheck> {
    const keepFirst = ['image_to_video', 'first_last_frame'].includes(requestMode(body));
    let image: ReferenceImage | undefined;
    for (const [field, role] of FIELDS) {
      const list = listOf(body, field);
      for (const [i, url] of list.entries()) {
        if (typeof url !== 'string' || !onLoopback(url)) continue;
        const got = await download(url, this.signal);
        const fail = (why: string): ReferenceCheck => ({
          ok: false,
          error: {
            code: REFERENCE_ERROR_CODE,
            message: `${field}[${i}]: the ${role} at ${url} ${why}`,
          },
        });
        if (typeof got === 'string') return fail(got);
        if (role !== 'image') continue;
        const ext = imageExtension(got.subarray(0, 16));
        if (!ext) return fail('is not an image (png, jpeg, webp or bmp)');
        if (keepFirst && field === 'images' && i === 0) image = await this.keep(got, ext);
      }
    }
    return image ? { ok: true, image } : { ok: true };
  }

  /** The first image of `body` again (after a restart), or undefined when it cannot be had. */
  async firstImage(body: VideoRequest): Promise<ReferenceImage | undefined> {
    const url = body.images?.[0];
    if (typeof url !== 'string' || !onLoopback(url)) return undefined;
    if (!['image_to_video', 'first_last_frame'].includes(requestMode(body))) return undefined;
    const got = await download(url, this.signal);
    const ext = typeof got === 'string' ? undefined : imageExtension(got.subarray(0, 16));
    return typeof got === 'string' || !ext ? undefined : this.keep(got, ext);
  }

  private async keep(bytes: Buffer, ext: string): Promise<ReferenceImage> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = path.join(this.dir, `${sha256}.${ext}`);
    await mkdir(this.dir, { recursive: true });
    // Named by content: a file already there holds these bytes; a new one appears whole.
    const there = await stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!there) await withAtomicFile(file, (temp) => writeFile(temp, bytes));
    return { file, sha256 };
  }
}
