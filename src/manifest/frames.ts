/**
 * Chained frames: an image entry `{ from: s01, frame: last }` takes a frame of another shot's
 * clip. Until that clip exists the body carries a placeholder naming the frame, so `plan`
 * shows what the shot waits for; the run puts the frame's URL in its place.
 */
import type { Collector } from './collector.js';
import type { ManifestPath } from './positions.js';
import { shotMode, type ResolvedShot } from './request.js';
import { closest } from './suggest.js';
import type { FrameRef, Shot, ShotlistManifest } from './types.gen.js';

/** Which frame of a clip: its first, its last, or the one shown at a time in seconds. */
export type FramePick = FrameRef['frame'];

/** What a frame is to a shot that also mentions cast members: its first frame, or a reference. */
export type FrameUse = NonNullable<FrameRef['as']>;

/** A frame a shot's body waits for, and where it stands among the body's images. */
export interface FrameDependency {
  /** The shot whose clip gives the frame. */
  from: string;
  frame: FramePick;
  /** The position of the frame in the body's `images` (0-based). */
  image: number;
}

const PLACEHOLDER = /^shotlist-frame:\/\/([A-Za-z0-9][A-Za-z0-9._-]*)\/(last|first|\d+(?:\.\d+)?)$/;

/** Whether an entry of `assets.images` is a frame of another shot. */
export function isFrameRef(entry: unknown): entry is FrameRef {
  return typeof entry === 'object' && entry !== null && 'from' in entry && 'frame' in entry;
}

/** The placeholder a body carries for a frame not cut yet: `shotlist-frame://s01/last`. */
export function framePlaceholder(ref: Pick<FrameRef, 'from' | 'frame'>): string {
  return `shotlist-frame://${ref.from}/${ref.frame}`;
}

/** The frame a placeholder names, or undefined for any other reference. */
export function parseFramePlaceholder(url: string): Pick<FrameRef, 'from' | 'frame'> | undefined {
  const m = PLACEHOLDER.exec(url);
  if (!m) return undefined;
  const frame = m[2] === 'last' || m[2] === 'first' ? m[2] : Number(m[2]);
  return { from: m[1]!, frame };
}

/** The frames a list of image references waits for, by position. */
export function frameDependencies(images: readonly string[] | undefined): FrameDependency[] {
  return (images ?? []).flatMap((url, image) => {
    const ref = parseFramePlaceholder(url);
    return ref ? [{ ...ref, image }] : [];
  });
}

/** How a frame is said to people: `s01's last frame`, `s01's frame at 2.5 s`. */
export function describeFrame(ref: Pick<FrameRef, 'from' | 'frame'>): string {
  return typeof ref.frame === 'number'
    ? `${ref.from}'s frame at ${ref.frame} s`
    : `${ref.from}'s ${ref.frame} frame`;
}

/** Each shot's frame entries with where they are written. */
function frameEntries(
  manifest: ShotlistManifest,
): { shot: number; ref: FrameRef; path: ManifestPath }[] {
  return manifest.shots.flatMap((shot, s) =>
    (Array.isArray(shot?.assets?.images) ? shot.assets.images : []).flatMap((entry, i) =>
      isFrameRef(entry)
        ? [{ shot: s, ref: entry, path: ['shots', s, 'assets', 'images', i] as ManifestPath }]
        : [],
    ),
  );
}

/** What a shot's frame entries say the frame is: the first `as:` written, and where. */
export function frameUseOf(
  shot: Shot,
  shotPath: ManifestPath,
): { as: FrameUse; path: ManifestPath } | undefined {
  const images = Array.isArray(shot.assets?.images) ? shot.assets.images : [];
  const i = images.findIndex((entry) => isFrameRef(entry) && entry.as !== undefined);
  const entry = images[i];
  return isFrameRef(entry) && entry.as !== undefined
    ? { as: entry.as, path: [...shotPath, 'assets', 'images', i, 'as'] }
    : undefined;
}

/** Where the first frame entry of the manifest is written, if it has one. */
export function firstFrameEntry(manifest: ShotlistManifest): ManifestPath | undefined {
  return frameEntries(manifest)[0]?.path;
}

/**
 * The shots each shot takes frames from, by shot id (ids the manifest does not have left out):
 * the edges of the run's dependency graph.
 */
export function upstreamShots(manifest: ShotlistManifest): Map<string, string[]> {
  const ids = new Set(manifest.shots.map((s) => s.id));
  const edges = new Map<string, string[]>();
  for (const { shot, ref } of frameEntries(manifest)) {
    const id = manifest.shots[shot]!.id;
    if (!ids.has(ref.from)) continue;
    const list = edges.get(id) ?? [];
    if (!list.includes(ref.from)) list.push(ref.from);
    edges.set(id, list);
  }
  return edges;
}

/** `ids` and every shot they take frames from, directly or down a chain. */
export function withUpstream(manifest: ShotlistManifest, ids: readonly string[]): string[] {
  const edges = upstreamShots(manifest);
  const all = new Set<string>();
  const visit = (id: string) => {
    if (all.has(id)) return;
    all.add(id);
    for (const up of edges.get(id) ?? []) visit(up);
  };
  ids.forEach(visit);
  return manifest.shots.map((s) => s.id).filter((id) => all.has(id));
}

/**
 * Rules of chained frames: each names a shot of the manifest, and no shot waits on itself,
 * directly or around a cycle (reported once per cycle, at the entry that closes it).
 */
export function checkFrames(manifest: ShotlistManifest, out: Collector): void {
  const ids = manifest.shots.map((s) => s?.id).filter((id) => typeof id === 'string');
  for (const { shot, ref, path } of frameEntries(manifest)) {
    if (ids.includes(ref.from)) continue;
    const guess = closest(ref.from, ids);
    out.at(
      'error',
      [...path, 'from'],
      `shot ${manifest.shots[shot]!.id} takes a frame from "${ref.from}", which is not a shot id`,
      guess ? `did you mean "${guess}"?` : `use one of: ${ids.slice(0, 10).join(', ')}`,
    );
  }
  checkFrameUseEntries(manifest, out);
  const edges = upstreamShots(manifest);
  const entries = frameEntries(manifest);
  const state = new Map<string, 'open' | 'closed'>();
  const visit = (id: string, trail: string[]): void => {
    state.set(id, 'open');
    for (const up of edges.get(id) ?? []) {
      if (state.get(up) === 'open') {
        const path = [...trail, id];
        const cycle = [...path.slice(path.indexOf(up)), up];
        const at = entries.find((e) => manifest.shots[e.shot]!.id === id && e.ref.from === up)!;
        out.at(
          'error',
          [...at.path, 'from'],
          `shots wait on each other's frames in a cycle: ${cycle.join(' -> ')}`,
          'take the frame from a shot earlier in the chain, or drop one of these entries',
        );
      } else if (!state.has(up)) visit(up, [...trail, id]);
    }
    state.set(id, 'closed');
  };
  for (const id of ids) if (!state.has(id)) visit(id, []);
}

/** `as:` on the entries themselves: one meaning per shot, and a first frame written first. */
function checkFrameUseEntries(manifest: ShotlistManifest, out: Collector): void {
  const said = new Map<number, FrameUse>();
  for (const { shot, ref, path } of frameEntries(manifest)) {
    if (ref.as === undefined) continue;
    const id = manifest.shots[shot]!.id;
    const earlier = said.get(shot);
    if (earlier !== undefined && earlier !== ref.as) {
      out.at(
        'error',
        [...path, 'as'],
        `shot ${id} says one frame is its ${earlier.replace('_', ' ')} and another a ${ref.as.replace('_', ' ')}`,
        `write the same as: on each frame entry of the shot (as: ${earlier})`,
      );
    } else if (ref.as === 'first_frame' && path.at(-1) !== 0) {
      out.at(
        'error',
        [...path, 'as'],
        `shot ${id} starts on ${describeFrame(ref)} (as: first_frame), but it is not its first image`,
        'move the entry first in assets.images, or write as: reference',
      );
    }
    said.set(shot, earlier ?? ref.as);
  }
}

/**
 * What `validate` and `plan` say about a shot that starts on a frame and mentions cast
 * members without saying which wins, with the two ways to say it.
 */
export function unsaidFrameUse(shot: Pick<ResolvedShot, 'id' | 'cast' | 'images'>): {
  message: string;
  fix: string;
  note: string;
} {
  const frames = frameDependencies(shot.images);
  const members = (shot.cast ?? []).map((m) => `@${m}`).join(', ');
  const refs = frames.map((f) => `@image_file_${f.image + 1}`).join(', ');
  return {
    message: `shot ${shot.id} starts on ${frames.map(describeFrame).join(' and ')} and mentions ${members} from the cast: it renders multi_ref, with the frame only a reference image (${refs}) beside the cast's images, so the cut will not join`,
    note: `${shot.id} renders multi_ref: ${frames.map(describeFrame).join(' and ')} is only a reference image beside ${members}'s, so the cut will not join; choose with as: first_frame or as: reference on the frame entry`,
    fix: `write as: first_frame on the frame entry to start on the frame (image-to-video; ${members} in words only, without images), or as: reference to keep multi_ref (refer to the frame as ${refs} in the prompt)`,
  };
}

/**
 * Rules of one resolved shot's frames: what `as:` says agrees with the mode the shot renders
 * in, and a shot whose frame and cast pull two ways is warned about. Says whether it found an
 * error.
 */
export function checkFrameUse(
  shot: Pick<
    ResolvedShot,
    'id' | 'cast' | 'images' | 'mode' | 'frameAs' | 'frameCastUnsaid' | 'origins' | 'path'
  >,
  out: Collector,
): boolean {
  if (shot.frameCastUnsaid) {
    const frame = frameDependencies(shot.images)[0]!;
    const { message, fix } = unsaidFrameUse(shot);
    const path = [...shot.path, 'assets', 'images', frame.image];
    out.at('warning', path, message, fix);
    // The API's own hint there (image N never referenced) would say the same, less clearly.
    out.settle(path);
  }
  const at = shot.origins.frameAs;
  if (shot.frameAs === undefined || at === undefined) return false;
  const mode = shotMode(shot);
  const explicit = shot.origins.mode !== undefined && shot.origins.mode !== at;
  if (shot.frameAs === 'first_frame' && mode !== 'image_to_video' && mode !== 'first_last_frame') {
    out.at(
      'error',
      explicit ? shot.origins.mode! : at,
      `shot ${shot.id} starts on a frame (as: first_frame), but renders ${mode}`,
      explicit
        ? 'remove the mode, or write as: reference'
        : 'keep at most two images (the frame, then a last frame), or write as: reference',
    );
    return true;
  }
  if (shot.frameAs === 'reference' && mode !== 'multi_ref') {
    out.at(
      'error',
      shot.origins.mode ?? at,
      `shot ${shot.id} takes a frame as a reference (as: reference), which needs mode multi_ref, not ${mode}`,
      'remove the mode, or write as: first_frame',
    );
    return true;
  }
  return false;
}
