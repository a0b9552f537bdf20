/**
 * What a final holds besides its clips: the layers (captions, cards, logo, voice-over) and the
 * files they read. The fingerprint of a final counts each of these files, so a changed font,
 * logo or voice-over makes the final again and an unchanged one is kept.
 */
import type { StitchOptions } from './stitch-plan.js';
import { captionFiles } from './layer-options.js';

/**
 * Every local file a stitch reads besides its clips and its soundtrack (fonts, images,
 * voice-overs, subtitle files), absolute paths, each once. Each layer lists its own here.
 */
export function layerFiles(options: StitchOptions): string[] {
  const files: string[] = [];
  files.push(...captionFiles(options));
  for (const o of options.logo ?? []) files.push(o.file);
  for (const v of options.voiceovers ?? []) files.push(v.file);
  return [...new Set(files)];
}
