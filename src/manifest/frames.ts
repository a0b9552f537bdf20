/**
 * Chained frames: an image entry `{ from: s01, frame: last }` takes a frame of another shot's
 * clip. Until that clip exists the body carries a placeholder naming the frame, so `plan`
 * shows what the shot waits for; the run puts the frame's URL in its place.
 */
import type { Collector } from './collector.js';
import type { ManifestPath } from './positions.js';
import { closest } from './suggest.js';
import type { FrameRef, ShotlistManifest } from './types.gen.js';

/** Which frame of a clip: its first, its last, or the one shown at a time in seconds. */
export type FramePick = FrameRef['frame'];

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
