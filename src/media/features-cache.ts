/**
 * What an ffmpeg binary can do, remembered between runs. Asking costs three ffmpeg starts
 * (about 0.4 s of CPU and 0.3 s of waiting with a distro build) on every command that touches
 * media; the answer only changes when the binary does. Entries are keyed by the binary's
 * path and stamped with its device, inode, size and modification time, so a replaced or
 * upgraded ffmpeg is asked again. The file lives in the user's cache folder
 * (`$XDG_CACHE_HOME/shotlist`, else `~/.cache/shotlist`); a missing, unreadable or broken
 * file only means asking ffmpeg, and a cache that cannot be written is no error.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { withAtomicFile } from '../safe-fs.js';

/** What is remembered of one binary. */
export interface KnownFeatures {
  version: string;
  filters: string[];
  encoders: string[];
}

interface CacheFile {
  format: 1;
  tools: Record<string, KnownFeatures & { stamp: string }>;
}

/** The cache file for this environment, or undefined when there is no home to keep it in. */
export function featuresCacheFile(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CACHE_HOME || (homedir() ? path.join(homedir(), '.cache') : '');
  return path.isAbsolute(base) ? path.join(base, 'shotlist', 'ffmpeg-features.json') : undefined;
}

/** The binary's identity and version of its bytes; undefined when it cannot be read. */
export function binaryStamp(binary: string): string | undefined {
  try {
    const s = statSync(binary);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function isNames(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

async function readCache(file: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
    if (parsed.format === 1 && typeof parsed.tools === 'object' && parsed.tools) {
      return { format: 1, tools: parsed.tools };
    }
  } catch {
    // absent or broken: start afresh
  }
  return { format: 1, tools: {} };
}

/** The remembered features of `binary` when its stamp still matches. */
export async function recallFeatures(
  file: string,
  binary: string,
  stamp: string,
): Promise<KnownFeatures | undefined> {
  const entry = (await readCache(file)).tools[binary];
  if (
    entry?.stamp !== stamp ||
    typeof entry.version !== 'string' ||
    !isNames(entry.filters) ||
    !isNames(entry.encoders)
  ) {
    return undefined;
  }
  return { version: entry.version, filters: entry.filters, encoders: entry.encoders };
}

/** Remembers the features of `binary`; failing to write is silent (the cache is optional). */
export async function rememberFeatures(
  file: string,
  binary: string,
  stamp: string,
  features: KnownFeatures,
): Promise<void> {
  try {
    const cache = await readCache(file);
    cache.tools[binary] = { stamp, ...features };
    await mkdir(path.dirname(file), { recursive: true });
    await withAtomicFile(file, (tmp) => writeFile(tmp, `${JSON.stringify(cache)}\n`));
  } catch {
    // a read-only home, a full disk: the next run asks ffmpeg again
  }
}
