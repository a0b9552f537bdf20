import { checkRequest } from '../api/contract.js';
import { checkCaptionFiles, checkShotCaptions } from './caption-rules.js';
import { checkCastMembers, checkShotCast } from './cast.js';
import { checkFileNames } from './file-names.js';
import { checkFrameUse, checkFrames } from './frames.js';
import { RESERVED_METADATA, buildRequest, type Origin } from './request.js';
import type { Collector } from './collector.js';
import { standInUrl, withAssetUrls } from './local-assets.js';
import { checkLocalFile, isLocalReference } from './local-files.js';
import type { ManifestPath } from './positions.js';
import { resolveShot } from './resolve.js';
import {
  checkTransitions,
  checkTrim,
  transitionSpec,
  type StitchClipSpec,
} from './stitch-rules.js';
import { checkExports } from './export-rules.js';
import { closest } from './suggest.js';
import { checkLayerFiles } from './voice-rules.js';
import type { ShotlistManifest } from './types.gen.js';

/** Whether a part of the manifest is well-formed enough for the rules to look at. */
export type Usable = (path: ManifestPath) => boolean;

/** Shot ids and variant names become file names: they must be unique. Runs even on a manifest with schema errors. */
export function checkUniqueNames(data: Record<string, unknown>, out: Collector): void {
  for (const [listName, field] of [
    ['shots', 'id'],
    ['variants', 'name'],
  ] as const) {
    const items = data[listName];
    if (Array.isArray(items)) checkUnique(out, items, field, listName);
  }
}

function checkUnique(
  out: Collector,
  items: readonly unknown[],
  field: string,
  listName: string,
): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const value = (item as Record<string, unknown> | null)?.[field];
    if (typeof value !== 'string') return;
    const earlier = first.get(value);
    if (earlier === undefined) first.set(value, i);
    else {
      out.at(
        'error',
        [listName, i, field],
        `${field} "${String(value)}" is used twice (also ${listName}[${earlier}])`,
        `give each ${listName === 'shots' ? 'shot' : 'variant'} its own ${field}`,
      );
    }
  });
}

function checkOrder(manifest: ShotlistManifest, out: Collector): void {
  const ids = manifest.shots.map((s) => s?.id).filter((id) => typeof id === 'string');
  manifest.stitch?.order?.forEach((id, i) => {
    if (!ids.includes(id)) {
      const guess = closest(id, ids);
      out.at(
        'error',
        ['stitch', 'order', i],
        `stitch.order names "${id}", which is not a shot id`,
        guess ? `did you mean "${guess}"?` : `use ids from shots: ${ids.slice(0, 10).join(', ')}`,
      );
    }
  });
}

/** Rules of one layer (defaults, a variant, a shot) on its own: reserved metadata, trim order. */
function checkLayers(manifest: ShotlistManifest, out: Collector, usable: Usable): void {
  const layers: [
    Origin,
    { metadata?: Record<string, unknown>; trim?: { start?: number; end?: number } },
  ][] = [];
  if (manifest.defaults) layers.push([['defaults'], manifest.defaults]);
  manifest.variants?.forEach((v, i) => layers.push([['variants', i], v]));
  manifest.shots.forEach((s, i) => layers.push([['shots', i], s]));
  for (const [path, layer] of layers) {
    if (!usable(path)) continue;
    for (const key of Object.keys(layer.metadata ?? {})) {
      if (Object.hasOwn(RESERVED_METADATA, key)) {
        const field = RESERVED_METADATA[key as keyof typeof RESERVED_METADATA];
        out.at(
          'error',
          [...path, 'metadata', key],
          `metadata.${key} is set through the "${field}" field`,
          `write ${field}: ... instead of metadata.${key}`,
          { key: true },
        );
      }
    }
    const trim = layer.trim;
    if (trim?.start !== undefined && trim.end !== undefined && trim.end <= trim.start) {
      out.at(
        'error',
        [...path, 'trim', 'end'],
        `trim.end ${trim.end} is not after trim.start ${trim.start}`,
        'keep end > start',
      );
    }
  }
}

/** The request body of each usable shot in one variant, against the API reference. */
function checkBodies(
  manifest: ShotlistManifest,
  variant: number | null,
  out: Collector,
  usable: Usable,
): void {
  manifest.shots.forEach((_, s) => {
    if (!usable(['shots', s])) return;
    const resolved = resolveShot(manifest, s, variant);
    if (checkShotCast(manifest.cast, manifest.shots[s]!.prompt, resolved, out)) return;
    if (checkFrameUse(resolved, out)) return;
    const shot = withAssetUrls(resolved, standInUrl);
    const { body, origins } = buildRequest(shot);
    for (const problem of checkRequest(body)) {
      let origin: Origin | undefined;
      for (let n = problem.path.length; n > 0 && !origin; n--) {
        origin = origins.get(problem.path.slice(0, n).join('.'));
      }
      if (!origin && problem.path[0] === 'images') origin = origins.get('metadata.action');
      out.at(problem.severity, origin ?? shot.path, problem.message, problem.fix);
    }
  });
}

/** Trims and transitions of one variant, in stitch order, as the stitcher will apply them. */
function checkStitchTimes(
  manifest: ShotlistManifest,
  variant: number | null,
  out: Collector,
  usable: Usable,
): void {
  const report = (path: ManifestPath, message: string, fix: string) =>
    out.at('error', path, message, fix);
  const index = new Map(manifest.shots.map((s, i) => [s?.id, i]));
  const stitch = usable(['stitch']);
  const order = (stitch ? manifest.stitch?.order : undefined) ?? manifest.shots.map((s) => s?.id);
  const stitchWide = stitch
    ? transitionSpec(manifest.stitch?.transition, ['stitch', 'transition'])
    : undefined;
  const clips: (StitchClipSpec | undefined)[] = [];
  for (const id of order) {
    const s = index.get(id);
    if (s === undefined) continue;
    if (!usable(['shots', s])) {
      clips.push(undefined);
      continue;
    }
    const shot = resolveShot(manifest, s, variant);
    checkTrim(shot, report);
    checkShotCaptions(shot, manifest.shots[s]?.caption, ['shots', s], report);
    const own = shot.origins.transition;
    clips.push({
      shot,
      transition: own ? transitionSpec(shot.transition, own) : stitchWide,
    });
  }
  checkTransitions(clips, report);
}

/**
 * Every rule beyond the schema: unique names aside, the stitch order, each layer, each shot's
 * request in each variant, and what the stitcher will need. Parts `usable` rejects are skipped.
 */
export function checkRules(manifest: ShotlistManifest, out: Collector, usable: Usable): void {
  if (usable(['stitch'])) checkOrder(manifest, out);
  if (usable(['stitch'])) checkExports(manifest, (p, m, f) => out.at('error', p, m, f));
  if (usable(['cast'])) checkCastMembers(manifest.cast, out);
  checkFrames(manifest, out);
  checkLayers(manifest, out, usable);
  if (!usable(['defaults']) || !usable(['variants']) || !usable(['cast'])) return;
  checkFileNames(manifest, out, usable);
  const variants: (number | null)[] = manifest.variants
    ? manifest.variants.map((_, i) => i)
    : [null];
  for (const v of variants) {
    if (v !== null && !usable(['variants', v])) continue;
    checkBodies(manifest, v, out, usable);
    checkStitchTimes(manifest, v, out, usable);
  }
}

/** Local files the manifest reads: the soundtrack, caption and card files, voice-overs and logos. URLs are fetched by ffmpeg, not checked here. */
export function checkLocalFiles(
  manifest: ShotlistManifest,
  out: Collector,
  dir: string,
  allowOutside = false,
): void {
  checkCaptionFiles(manifest, out, dir, allowOutside);
  checkLayerFiles(manifest, out, dir, allowOutside);
  const file = manifest.stitch?.soundtrack?.file;
  if (typeof file !== 'string' || !isLocalReference(file)) return;
  const problem = checkLocalFile(file, dir, 'soundtrack file', allowOutside);
  if (problem) out.at('error', ['stitch', 'soundtrack', 'file'], problem.message, problem.fix);
}
