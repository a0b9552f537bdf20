import path from 'node:path';
import type { Stitch } from '../manifest/types.gen.js';
import { appliesTo } from './voice.js';

/**
 * Images laid over a final (a logo, a badge): scaled once relative to the frame's width,
 * placed in a corner or at a point, with an opacity and a time range. A pure graph builder:
 * `planStitch` calls it.
 */

export type Corner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

/** One overlay as the stitcher draws it. */
export interface Overlay {
  /** Absolute path of the image. */
  file: string;
  /** Where it sits; `at` (shares of the frame) wins when given. */
  corner: Corner;
  at?: { x: number; y: number };
  /** Width as a share of the frame's width. */
  width: number;
  /** Gap to the corner's edges as a share of the frame's width. */
  margin: number;
  /** 0 to 1. */
  opacity: number;
  /** Seconds of the output; without them, from the start or to the end. */
  start?: number;
  end?: number;
}

/** The filters overlays use beyond the plain stitch's, checked before ffmpeg runs. */
export const OVERLAY_FILTERS = ['overlay', 'colorchannelmixer'] as const;

function sec(x: number): string {
  const fixed = x.toFixed(6);
  return fixed.replace(/0+$/, '').replace(/\.$/, '');
}

/** The overlay filter's x:y for an overlay on a `width`-wide frame (W, H, w, h are ffmpeg's). */
export function overlayPosition(o: Overlay, frame: { width: number; height: number }): string {
  if (o.at) return `x=${Math.round(o.at.x * frame.width)}:y=${Math.round(o.at.y * frame.height)}`;
  const m = Math.round(o.margin * frame.width);
  const x = o.corner.endsWith('left') ? `${m}` : `W-w-${m}`;
  const y = o.corner.startsWith('top') ? `${m}` : `H-h-${m}`;
  return `x=${x}:y=${y}`;
}

/** The `enable` option for an overlay's time range, or none when it is always shown. */
function enableOf(o: Overlay): string {
  if (o.start === undefined && o.end === undefined) return '';
  const from = sec(o.start ?? 0);
  return o.end === undefined
    ? `:enable='gte(t,${from})'`
    : `:enable='between(t,${from},${sec(o.end)})'`;
}

/**
 * Lays `overlays` over the video labelled `video`, the images being ffmpeg inputs from
 * `firstInput` on. Returns the inputs to append, the filters to add and the final label.
 */
export function overlayLayers(
  overlays: readonly Overlay[],
  video: string,
  firstInput: number,
  frame: { width: number; height: number },
): { inputs: string[]; graph: string[]; video: string } {
  const inputs: string[] = [];
  const graph: string[] = [];
  let label = video;
  overlays.forEach((o, i) => {
    inputs.push('-i', o.file);
    const width = Math.max(2, Math.round(o.width * frame.width));
    const alpha = o.opacity < 1 ? `,colorchannelmixer=aa=${sec(o.opacity)}` : '';
    graph.push(`[${firstInput + i}:v:0]scale=${width}:-1,format=rgba${alpha}[logo${i}]`);
    graph.push(`[${label}][logo${i}]overlay=${overlayPosition(o, frame)}${enableOf(o)}[vlogo${i}]`);
    label = `vlogo${i}`;
  });
  return { inputs, graph, video: label };
}

/** The overlays of one variant's final from the manifest's `stitch.logo`, files absolute. */
export function logoOptions(
  spec: Stitch,
  variant: string | null,
  manifestDir: string,
): { logo?: Overlay[] } {
  const items = spec.logo === undefined ? [] : Array.isArray(spec.logo) ? spec.logo : [spec.logo];
  const logo = items
    .filter((o) => appliesTo(o.variants, variant))
    .map((o): Overlay => ({
      file: path.resolve(manifestDir, o.file),
      corner: o.corner ?? 'top-right',
      ...(o.x !== undefined && o.y !== undefined ? { at: { x: o.x, y: o.y } } : {}),
      width: o.width ?? 0.15,
      margin: o.margin ?? 0.03,
      opacity: o.opacity ?? 1,
      ...(o.start !== undefined ? { start: o.start } : {}),
      ...(o.end !== undefined ? { end: o.end } : {}),
    }));
  return logo.length > 0 ? { logo } : {};
}
