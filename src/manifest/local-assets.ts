/** Local files named in shots' `assets`: where they are written, and how a body refers to them. */
import { adviceText } from '../errors.js';
import type { Collector } from './collector.js';
import { firstFrameEntry } from './frames.js';
import { checkLocalFile, isLocalReference } from './local-files.js';
import type { ManifestPath } from './positions.js';
import type { ResolvedShot } from './request.js';
import type { ShotlistManifest } from './types.gen.js';

export type AssetRole = 'image' | 'video' | 'audio';

/** One local reference as the manifest writes it. */
export interface LocalAssetRef {
  /** As written, e.g. `./refs/cat.png`: relative to the manifest's folder. */
  ref: string;
  role: AssetRole;
  /** Where it is written, e.g. `['shots', 2, 'assets', 'images', 0]`. */
  path: ManifestPath;
}

const ROLES = [
  ['images', 'image'],
  ['videos', 'video'],
  ['audios', 'audio'],
] as const;

/** Every local file of every shot's `assets`, in manifest order, then the cast's images. */
export function localAssetRefs(manifest: ShotlistManifest): LocalAssetRef[] {
  const refs: LocalAssetRef[] = [];
  manifest.shots.forEach((shot, s) => {
    for (const [list, role] of ROLES) {
      const items: unknown = shot?.assets?.[list];
      if (!Array.isArray(items)) continue;
      items.forEach((ref: unknown, i) => {
        if (typeof ref === 'string' && isLocalReference(ref)) {
          refs.push({ ref, role, path: ['shots', s, 'assets', list, i] });
        }
      });
    }
  });
  for (const [name, member] of Object.entries(manifest.cast ?? {})) {
    const images: unknown = member?.images;
    if (!Array.isArray(images)) continue;
    images.forEach((ref: unknown, i) => {
      if (typeof ref === 'string' && isLocalReference(ref)) {
        refs.push({ ref, role: 'image', path: ['cast', name, 'images', i] });
      }
    });
  }
  return refs;
}

/**
 * The shot with each local reference replaced by the URL the API will receive for it; a
 * reference `urlOf` does not know stays as written.
 */
export function withAssetUrls(
  shot: ResolvedShot,
  urlOf: (ref: string) => string | undefined,
): ResolvedShot {
  const map = (list: string[] | undefined) =>
    list?.map((ref) => (isLocalReference(ref) ? (urlOf(ref) ?? ref) : ref));
  const images = map(shot.images);
  const videos = map(shot.videos);
  const audios = map(shot.audios);
  return {
    ...shot,
    ...(images ? { images } : {}),
    ...(videos ? { videos } : {}),
    ...(audios ? { audios } : {}),
  };
}

/**
 * A URL that stands for a local file while the request body is checked against the API's
 * rules: the file's real URL is known only once it is hashed.
 */
export function standInUrl(ref: string): string {
  return `https://upload.invalid/${encodeURIComponent(ref)}`;
}

/** What `checkLocalAssets` does when local files meet a manifest without `uploads`. */
export type MissingUploads = 'error' | 'warning' | 'ignore';

/**
 * Checks each local asset file (exists, is a file, inside the manifest's folder unless
 * `allowOutside`), and that the manifest says where local files go (`uploads`).
 */
export function checkLocalAssets(
  manifest: ShotlistManifest,
  out: Collector,
  dir: string,
  options: { allowOutside?: boolean | undefined; missingUploads?: MissingUploads | undefined },
): void {
  const refs = localAssetRefs(manifest);
  for (const { ref, role, path } of refs) {
    const problem = checkLocalFile(ref, dir, `${role} file`, options.allowOutside === true);
    if (problem) out.at('error', path, problem.message, problem.fix);
  }
  const missing = options.missingUploads ?? 'ignore';
  if (manifest.uploads !== undefined || missing === 'ignore') return;
  const fix = adviceText({ kind: 'add_uploads_section' });
  const first = refs[0];
  // A frame cut from another shot's clip is a local file too, uploaded once it is cut.
  const frame = firstFrameEntry(manifest);
  if (first) {
    out.at(
      missing,
      first.path,
      `"${first.ref}" is a local file (${refs.length} in all), and the manifest has no uploads section saying where to put them`,
      fix,
    );
  } else if (frame) {
    out.at(
      missing,
      frame,
      'a frame of another shot is uploaded like a local file, and the manifest has no uploads section saying where to put it',
      fix,
    );
  }
}

/** Rules of the `uploads` section the schema cannot say. */
export function checkUploads(manifest: ShotlistManifest, out: Collector): void {
  const uploads = manifest.uploads;
  if (!uploads) return;
  if (uploads.provider === 's3' && uploads.bucket === undefined) {
    out.at(
      'error',
      ['uploads', 'provider'],
      'uploads with provider s3 needs a bucket',
      'add bucket: <name>',
    );
  }
  if (uploads.provider === 'command' && uploads.command === undefined) {
    out.at(
      'error',
      ['uploads', 'provider'],
      'uploads with provider command needs the command to run',
      'add command: [rclone, copyto, "{file}", "remote:bucket/{key}"]',
    );
  }
  if (uploads.provider === 'command' && !uploads.command?.some((a) => a.includes('{file}'))) {
    if (uploads.command !== undefined) {
      out.at(
        'error',
        ['uploads', 'command'],
        'the upload command never names the file ({file})',
        'put "{file}" where the command takes the file to upload',
      );
    }
  }
}
