/**
 * The file names a manifest's shots are written to, and the check that no two shots share one.
 * A shot id becomes a file name; so do its takes (`<id>.take<N>`), so `s01` with two takes and
 * a shot `s01.take2` would write one clip. Names are compared case-insensitively: on macOS and
 * Windows, `S01.mp4` and `s01.mp4` are one file.
 */
import type { Collector } from './collector.js';
import { clipPath, pickKey } from './identity.js';
import type { ManifestPath } from './positions.js';
import { resolveShot } from './resolve.js';
import type { ShotlistManifest } from './types.gen.js';

/** One take of one shot, as file names see it. */
export interface TakeName {
  id: string;
  variant: string | null;
  take: number;
}

/** A file two different shots would write. */
export interface FileClash<T> {
  /** The name as the later shot writes it, and as the earlier one does (they differ in case only). */
  file: string;
  firstFile: string;
  first: T;
  second: T;
}

/**
 * The files that two different shots (by `shotOf`) would write, compared as a case-insensitive
 * folder compares them; each in the order given, the later shot as `second`.
 */
export function fileClashes<T extends TakeName>(
  takes: readonly T[],
  takesOf: (t: T) => number,
  shotOf: (t: T) => string = (t) => pickKey(t.id, t.variant),
): FileClash<T>[] {
  const seen = new Map<string, { t: T; file: string }>();
  const clashes: FileClash<T>[] = [];
  for (const t of takes) {
    const file = clipPath(t, takesOf(t) > 1);
    const name = file.toLowerCase();
    const first = seen.get(name);
    if (first === undefined) seen.set(name, { t, file });
    else if (shotOf(first.t) !== shotOf(t))
      clashes.push({ file, firstFile: first.file, first: first.t, second: t });
  }
  return clashes;
}

/** The file of a clash as people read it: both spellings when they differ in case only. */
export function clashedFile(c: Pick<FileClash<unknown>, 'file' | 'firstFile'>): string {
  return c.file === c.firstFile
    ? c.file
    : `${c.firstFile} and ${c.file} (one file on macOS and Windows)`;
}

/** The fix of a clash: a name no take of another shot can take. */
export const CLASH_FIX =
  'rename one of the two shots (ids differing only in case, or ending in .take<N>, clash with the clip names of takes)';

/** Every clip file of the manifest (each variant, each take) is written by one shot only. */
export function checkFileNames(
  manifest: ShotlistManifest,
  out: Collector,
  usable: (path: ManifestPath) => boolean,
): void {
  const variants: (number | null)[] = manifest.variants
    ? manifest.variants.map((_, i) => i)
    : [null];
  const takes: (TakeName & { index: number; takes: number })[] = [];
  for (const v of variants) {
    manifest.shots.forEach((shot, s) => {
      if (!usable(['shots', s]) || typeof shot?.id !== 'string') return;
      const resolved = resolveShot(manifest, s, v);
      const variant = v === null ? null : manifest.variants![v]!.name;
      for (let take = 1; take <= resolved.takes; take++)
        takes.push({ id: shot.id, variant, take, index: s, takes: resolved.takes });
    });
  }
  const reported = new Set<number>();
  // The same id twice is already an error of its own (ids are unique).
  for (const c of fileClashes(
    takes,
    (t) => t.takes,
    (t) => String(t.index),
  )) {
    if (reported.has(c.second.index) || c.first.id === c.second.id) continue;
    reported.add(c.second.index);
    out.at(
      'error',
      ['shots', c.second.index, 'id'],
      `shot "${c.second.id}" and shot "${c.first.id}" (shots[${c.first.index}]) would both write ${clashedFile(c)}${c.first.takes > 1 || c.second.takes > 1 ? ' (a shot with several takes writes <id>.take<N>.mp4)' : ''}`,
      CLASH_FIX,
    );
  }
}
