/**
 * `<out>/.preflight.json`: what ffprobe found in each reference video or audio, kept with the
 * ETag / Last-Modified the host gave then, so an unchanged file is not read again. Every run
 * still asks the host (a HEAD) whether the file is there and unchanged. The file lives in the
 * output folder, which is untrusted: links are refused and each entry is checked.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { regularFile, writeFileAtomic } from '../safe-fs.js';
import type { HttpInfo } from './preflight-http.js';
import type { RemoteMedia } from './preflight-probe.js';

export const PREFLIGHT_FILE = '.preflight.json';
const MAX_BYTES = 4 * 1024 * 1024;
const MAX_ENTRIES = 5000;

interface CachedProbe {
  etag?: string;
  last_modified?: string;
  size?: number;
  duration_sec: number;
  has_video: boolean;
  has_audio: boolean;
}

export type ProbeCache = Map<string, CachedProbe>;

const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= 1024;

function valid(v: unknown): v is CachedProbe {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Partial<CachedProbe>;
  return (
    (e.etag === undefined || isText(e.etag)) &&
    (e.last_modified === undefined || isText(e.last_modified)) &&
    (e.size === undefined || (Number.isSafeInteger(e.size) && e.size >= 0)) &&
    typeof e.duration_sec === 'number' &&
    Number.isFinite(e.duration_sec) &&
    e.duration_sec >= 0 &&
    typeof e.has_video === 'boolean' &&
    typeof e.has_audio === 'boolean'
  );
}

/** The cache of `outDir`; empty when missing, a link, too large or not ours. */
export async function readProbeCache(outDir: string): Promise<ProbeCache> {
  const cache: ProbeCache = new Map();
  const info = await regularFile(outDir, PREFLIGHT_FILE);
  if (!info || info.size > MAX_BYTES) return cache;
  try {
    const doc = JSON.parse(await readFile(path.join(outDir, PREFLIGHT_FILE), 'utf8')) as {
      v?: unknown;
      probes?: unknown;
    };
    if (doc.v !== 1 || typeof doc.probes !== 'object' || doc.probes === null) return cache;
    for (const [url, entry] of Object.entries(doc.probes).slice(0, MAX_ENTRIES)) {
      if (url.length <= 8192 && valid(entry)) cache.set(url, entry);
    }
  } catch {
    // Unreadable or not JSON: every file is probed again.
  }
  return cache;
}

/** The cached probe of `url`, when the host's validators say the file has not changed. */
export function cachedProbe(
  cache: ProbeCache,
  url: string,
  http: HttpInfo,
): RemoteMedia | undefined {
  const entry = cache.get(url);
  if (!entry) return undefined;
  const sameEtag = entry.etag !== undefined && entry.etag === http.etag;
  const sameDate =
    entry.last_modified !== undefined &&
    entry.last_modified === http.lastModified &&
    entry.size === http.size;
  if (!sameEtag && !sameDate) return undefined;
  return { durationSec: entry.duration_sec, hasVideo: entry.has_video, hasAudio: entry.has_audio };
}

/** Keeps a probe for next time; only a host that gives a validator can be trusted to say "unchanged". */
export function rememberProbe(
  cache: ProbeCache,
  url: string,
  http: HttpInfo,
  media: RemoteMedia,
): void {
  if (http.etag === undefined && http.lastModified === undefined) return;
  cache.set(url, {
    ...(http.etag !== undefined ? { etag: http.etag } : {}),
    ...(http.lastModified !== undefined ? { last_modified: http.lastModified } : {}),
    ...(http.size !== undefined ? { size: http.size } : {}),
    duration_sec: media.durationSec,
    has_video: media.hasVideo,
    has_audio: media.hasAudio,
  });
}

export async function writeProbeCache(outDir: string, cache: ProbeCache): Promise<void> {
  const probes = Object.fromEntries([...cache].slice(-MAX_ENTRIES));
  await writeFileAtomic(outDir, PREFLIGHT_FILE, `${JSON.stringify({ v: 1, probes }, null, 2)}\n`);
}
