/** Local asset files: their content hash, upload key and the URL the API will receive. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { LoadedManifest } from '../manifest/load.js';
import { localAssetRefs, type AssetRole } from '../manifest/local-assets.js';
import type { ShotlistManifest } from '../manifest/types.gen.js';

/** One local file to upload; several references may name it. */
export interface LocalAsset {
  /** The references naming it, as written in the manifest. */
  refs: string[];
  role: AssetRole;
  /** Absolute path. */
  file: string;
  sha256: string;
  bytes: number;
  /** `<prefix><sha256>.<ext>`: the same bytes always get the same key. */
  key: string;
  contentType: string;
  /** The public URL the request body carries. */
  url: string;
}

/**
 * Where simulated uploads appear to live in the plan and the journal: the simulator's port
 * changes each run, so the body carries this stable origin and the run puts the simulator's
 * address in its place when it submits.
 */
export const SIMULATED_ORIGIN = 'http://simulator.invalid';

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  heic: 'image/heic',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
};

function extensionOf(file: string): string {
  return path.extname(file).slice(1).toLowerCase();
}

/** The media type of a file, by its extension. */
export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extensionOf(file)] ?? 'application/octet-stream';
}

/** The content-addressed key of a file: `<prefix><sha256>.<ext>`. */
export function uploadKey(sha256: string, file: string, prefix = ''): string {
  const ext = extensionOf(file);
  return `${prefix}${sha256}${/^[a-z0-9]{1,8}$/.test(ext) ? `.${ext}` : ''}`;
}

/** The public URL of a key: the template with `{key}` replaced. */
export function publicUrl(template: string, key: string): string {
  return template.replaceAll('{key}', key);
}

/** Streams a file through sha256: no whole-file buffer, whatever its size. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Where a run's local files go: the URL template and key prefix (the simulator's, or `uploads`). */
export interface AssetLocation {
  template: string | undefined;
  prefix: string;
}

/** The manifest's asset location, or the simulator's asset origin for a simulated run. */
export function assetLocation(
  uploads: ShotlistManifest['uploads'],
  simulate: boolean,
): AssetLocation {
  if (simulate) return { template: `${SIMULATED_ORIGIN}/assets/{key}`, prefix: '' };
  return { template: uploads?.public_url, prefix: uploads?.prefix ?? '' };
}

/** One local file with its hash, key and URL at `location`. */
export async function localAssetOf(
  file: string,
  refs: string[],
  role: AssetRole,
  location: AssetLocation,
): Promise<LocalAsset> {
  const [sha256, info] = await Promise.all([hashFile(file), stat(file)]);
  const key = uploadKey(sha256, file, location.prefix);
  return {
    refs,
    role,
    file,
    sha256,
    bytes: info.size,
    key,
    contentType: contentTypeOf(file),
    url: location.template ? publicUrl(location.template, key) : '',
  };
}

/**
 * Hashes every local file the manifest's assets name (each file once) and gives each its key
 * and URL. Reads files, sends nothing. Without a URL template (no `uploads`, not simulated)
 * the URL is empty: the manifest's validation has already refused such a run.
 */
export async function localAssets(
  loaded: Pick<LoadedManifest, 'manifest' | 'dir'>,
  options: { simulate?: boolean | undefined } = {},
): Promise<LocalAsset[]> {
  const dir = loaded.dir ?? process.cwd();
  const location = assetLocation(loaded.manifest.uploads, options.simulate === true);
  const byFile = new Map<string, LocalAsset>();
  for (const { ref, role } of localAssetRefs(loaded.manifest)) {
    const file = path.resolve(dir, ref);
    const known = byFile.get(file);
    if (known) {
      if (!known.refs.includes(ref)) known.refs.push(ref);
      continue;
    }
    byFile.set(file, await localAssetOf(file, [ref], role, location));
  }
  return [...byFile.values()];
}
