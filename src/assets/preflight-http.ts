/** What an asset host says about one URL: a HEAD, or a one-byte GET where HEAD is refused. */
import type { Dispatcher } from 'undici';
import { undici } from '../api/undici.js';

/** The answer about one URL, after redirects. */
export interface HttpInfo {
  status: number;
  /** The media type without parameters, lower case (`image/png`). */
  contentType?: string;
  /** Bytes of the whole file, when the host says. */
  size?: number;
  etag?: string;
  lastModified?: string;
}

export interface HttpCheckOptions {
  dispatcher: Dispatcher;
  /** Each request is abandoned after this many ms. */
  timeoutMs: number;
  maxRedirects?: number;
  signal?: AbortSignal;
}

/** A URL that gave no HTTP answer: refused, reset, timed out, too many redirects. */
export class HttpCheckError extends Error {}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const DEFAULT_MAX_REDIRECTS = 5;

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function infoOf(res: Dispatcher.ResponseData): HttpInfo {
  const info: HttpInfo = { status: res.statusCode };
  const type = header(res.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type) info.contentType = type;
  // A ranged answer's Content-Length is the range; the whole size follows the slash.
  const range = /\/(\d+)\s*$/.exec(header(res.headers, 'content-range') ?? '');
  const length =
    range?.[1] ?? (res.statusCode === 200 ? header(res.headers, 'content-length') : '');
  if (length && /^\d+$/.test(length)) info.size = Number(length);
  const etag = header(res.headers, 'etag');
  if (etag) info.etag = etag;
  const modified = header(res.headers, 'last-modified');
  if (modified) info.lastModified = modified;
  return info;
}

/** One request, no redirects followed; the body is never read beyond what the method sends. */
async function once(
  url: URL,
  method: 'HEAD' | 'GET',
  options: HttpCheckOptions,
): Promise<{ info: HttpInfo; location: string | undefined }> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    // No Authorization, no cookies: an asset host learns nothing but the URL.
    const res = await undici().request(url, {
      method,
      dispatcher: options.dispatcher,
      signal,
      headers: {
        'user-agent': 'shotlist-preflight',
        ...(method === 'GET' ? { range: 'bytes=0-0' } : {}),
      },
    });
    await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    return { info: infoOf(res), location: header(res.headers, 'location') };
  } catch (error) {
    if (timeout.aborted) {
      throw new HttpCheckError(`no answer within ${options.timeoutMs / 1000} s`);
    }
    if (options.signal?.aborted) throw error;
    const { message, code } = error as NodeJS.ErrnoException;
    const named = code && !message.includes(code) ? ` (${code})` : '';
    throw new HttpCheckError(`cannot be fetched: ${message}${named}`);
  }
}

/** Follows redirects, up to a limit, for one method. */
async function follow(url: string, method: 'HEAD' | 'GET', options: HttpCheckOptions) {
  let current = new URL(url);
  const limit = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  for (let hops = 0; ; hops++) {
    const { info, location } = await once(current, method, options);
    if (!REDIRECTS.has(info.status) || location === undefined) return info;
    if (hops >= limit) throw new HttpCheckError(`more than ${limit} redirects`);
    current = new URL(location, current);
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new HttpCheckError(`redirects to a ${current.protocol} URL`);
    }
  }
}

/**
 * Asks the host about `url` with a HEAD; a host that refuses HEAD (405, 501) or answers it
 * without a content type is asked again with a ranged GET of one byte.
 */
export async function checkUrl(url: string, options: HttpCheckOptions): Promise<HttpInfo> {
  const head = await follow(url, 'HEAD', options);
  const refused = head.status === 405 || head.status === 501;
  if (!refused && (head.status >= 300 || head.contentType !== undefined)) return head;
  const get = await follow(url, 'GET', options);
  // 206 is the one byte asked for; 200 is a host that ignores ranges (its body is not read).
  return get.status === 206 ? { ...get, status: 200 } : get;
}
