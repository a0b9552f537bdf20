/**
 * `stitch.exports` and `stitch.loudness`: the presets, what each export resolves to, and
 * `validate`'s checks of them (duplicate names, crf with bitrate, unknown variants).
 */
import type { CustomExport, Loudness, ShotlistManifest } from './types.gen.js';
import type { ManifestPath } from './positions.js';
import type { Report } from './stitch-rules.js';

export type ExportPresetName =
  'tiktok' | 'reels' | 'shorts' | 'youtube' | 'square' | 'master' | 'broadcast';

/** One deliverable as the stitcher will make it. */
export interface ResolvedExport {
  name: string;
  /** Undefined: the final's size. */
  size?: { width: number; height: number };
  /** Undefined: the final's frame rate. */
  fps?: number;
  codec: 'h264' | 'h265';
  crf?: number;
  bitrate?: string;
  /** x264/x265 speed preset. */
  preset: string;
  audioBitrate: string;
  /** Undefined: `stitch.loudness`, if any. */
  loudness?: { target: number; truePeak: number };
  /** Only these variants; undefined: every one. */
  variants?: string[];
}

const STREAMING = { target: -14, truePeak: -1 };
const SOCIAL: Omit<ResolvedExport, 'name'> = {
  size: { width: 1080, height: 1920 },
  fps: 30,
  codec: 'h264',
  crf: 20,
  preset: 'veryfast',
  audioBitrate: '192k',
  loudness: STREAMING,
};

/** The presets `stitch.exports` may name. */
export const EXPORT_PRESETS: Record<ExportPresetName, Omit<ResolvedExport, 'name'>> = {
  tiktok: SOCIAL,
  reels: SOCIAL,
  shorts: SOCIAL,
  youtube: { ...SOCIAL, size: { width: 1920, height: 1080 } },
  square: { ...SOCIAL, size: { width: 1080, height: 1080 } },
  master: { codec: 'h264', crf: 16, preset: 'medium', audioBitrate: '320k' },
  broadcast: {
    ...SOCIAL,
    size: undefined,
    fps: undefined,
    loudness: { target: -23, truePeak: -1 },
  },
};

const CUSTOM: Omit<ResolvedExport, 'name'> = {
  fps: 30,
  codec: 'h264',
  crf: 18,
  preset: 'veryfast',
  audioBitrate: '192k',
};

/** `streaming` / `broadcast` / `{ target, true_peak }` as a target. */
export function resolveLoudness(spec: Loudness | undefined) {
  if (spec === undefined) return undefined;
  if (spec === 'streaming') return STREAMING;
  if (spec === 'broadcast') return { target: -23, truePeak: -1 };
  return { target: spec.target, truePeak: spec.true_peak ?? -1 };
}

function isPreset(name: string): name is ExportPresetName {
  return Object.hasOwn(EXPORT_PRESETS, name);
}

function sizeOf(spec: string | undefined) {
  const [width, height] = spec?.split('x').map(Number) ?? [];
  return width && height ? { width, height } : undefined;
}

/** One entry of `stitch.exports` resolved: a preset, or a custom export over its preset. */
export function resolveExport(entry: string | CustomExport): ResolvedExport {
  if (typeof entry === 'string') {
    return { name: entry, ...(isPreset(entry) ? EXPORT_PRESETS[entry] : CUSTOM) };
  }
  const from = isPreset(entry.name) ? EXPORT_PRESETS[entry.name] : CUSTOM;
  const size = sizeOf(entry.size) ?? from.size;
  const loudness = resolveLoudness(entry.loudness) ?? from.loudness;
  const rate =
    entry.bitrate !== undefined ? { bitrate: entry.bitrate } : { crf: entry.crf ?? from.crf ?? 18 };
  return {
    name: entry.name,
    ...(size ? { size } : {}),
    ...(entry.fps !== undefined || from.fps !== undefined ? { fps: entry.fps ?? from.fps } : {}),
    codec: entry.codec ?? from.codec,
    ...rate,
    preset: from.preset,
    audioBitrate: entry.audio_bitrate ?? from.audioBitrate,
    ...(loudness ? { loudness } : {}),
    ...(entry.variants ? { variants: entry.variants } : {}),
  };
}

/** `final.vertical.mp4` + `tiktok` -> `final.vertical.tiktok.mp4`. */
export function exportFileName(final: string, name: string): string {
  const dot = final.lastIndexOf('.');
  return dot > 0 ? `${final.slice(0, dot)}.${name}${final.slice(dot)}` : `${final}.${name}`;
}

/** Names an export may not take: they are the preview's and the moved-aside final's. */
const RESERVED = new Set(['preview', 'stale']);

/** `validate`'s checks of `stitch.exports`, each reported where it is written. */
export function checkExports(manifest: ShotlistManifest, report: Report): void {
  const exports = manifest.stitch?.exports;
  if (!Array.isArray(exports)) return;
  const variants = new Set((manifest.variants ?? []).map((v) => v?.name));
  const seen = new Map<string, number>();
  exports.forEach((entry, i) => {
    const custom = typeof entry === 'object' && entry !== null ? entry : undefined;
    const name = custom ? custom.name : entry;
    if (typeof name !== 'string') return;
    const at: ManifestPath = custom ? ['stitch', 'exports', i, 'name'] : ['stitch', 'exports', i];
    const first = seen.get(name);
    if (first !== undefined) {
      report(
        at,
        `the export name ${name} is used twice (also at stitch.exports[${first}]): both would write the same file`,
        `give each export its own name, e.g. { name: ${name}-2, ... }`,
      );
    } else seen.set(name, i);
    if (RESERVED.has(name)) {
      report(
        at,
        `the export name ${name} is taken by shotlist's own files (final.<variant>.${name}.mp4)`,
        `choose another name, e.g. ${name}-cut`,
      );
    }
    if (!custom) return;
    if (custom.crf !== undefined && custom.bitrate !== undefined) {
      report(
        ['stitch', 'exports', i, 'bitrate'],
        `export ${name} sets both crf (${custom.crf}) and bitrate (${custom.bitrate}): an encode has one rate control`,
        'keep crf (constant quality) or bitrate (a target size), not both',
      );
    }
    (custom.variants ?? []).forEach((v, k) => {
      if (variants.has(v)) return;
      report(
        ['stitch', 'exports', i, 'variants', k],
        `export ${name} names the variant ${v}, which the manifest does not have`,
        variants.size > 0
          ? `use one of: ${[...variants].join(', ')}`
          : 'remove variants: the manifest has no variants',
      );
    });
  });
}
