/**
 * The manifest's captions and cards, as one variant's stitch gets them: files resolved against
 * the manifest's folder, defaults filled in, items of other variants left out. Pure.
 */
import path from 'node:path';
import type { PlannedShot } from '../plan/types.js';
import type { Stitch } from '../manifest/types.gen.js';
import { DEFAULT_CAPTION_STYLE, type CaptionOptions, type ClipCaption } from './captions.js';
import type { CardOptions } from './cards.js';
import { isFontFile } from './fonts.js';

function forVariant(variants: readonly string[] | undefined, variant: string | null): boolean {
  return !variants || variant === null || variants.includes(variant);
}

/** `@name` of a cast member reads as the name on screen (the description is words for the model). */
export function captionText(text: string, cast: Record<string, unknown> | undefined): string {
  return text.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (mention, name: string) =>
    cast && Object.hasOwn(cast, name) ? name : mention,
  );
}

function clipCaptions(
  shot: PlannedShot,
  cast: Record<string, unknown> | undefined,
): ClipCaption[] | undefined {
  const caption = shot.caption;
  if (caption === undefined) return undefined;
  const list = typeof caption === 'string' ? [{ text: caption }] : caption;
  return list.map((c) => ({ ...c, text: captionText(c.text, cast) }));
}

/**
 * The `captions` and `cards` stitch options of one variant, or nothing when the manifest has
 * neither for it (so an unlayered stitch stays exactly as it was).
 */
export function layerOptions(
  spec: Stitch,
  shots: readonly PlannedShot[],
  variant: string | null,
  manifestDir: string,
  cast?: Record<string, unknown>,
): { captions?: CaptionOptions; cards?: CardOptions[] } {
  const out: { captions?: CaptionOptions; cards?: CardOptions[] } = {};
  const c = spec.captions;
  const clips: Record<string, ClipCaption[]> = {};
  for (const shot of shots) {
    const own = clipCaptions(shot, cast);
    if (own) clips[shot.id] = own;
  }
  if ((c || Object.keys(clips).length > 0) && forVariant(c?.variants, variant)) {
    const style = c?.style ?? {};
    const font = style.font;
    out.captions = {
      clips,
      ...(c?.file ? { file: path.resolve(manifestDir, c.file) } : {}),
      burn: Array.isArray(c?.burn)
        ? variant !== null && c.burn.includes(variant)
        : c?.burn === true,
      ...(c?.language ? { language: c.language } : {}),
      style: {
        ...DEFAULT_CAPTION_STYLE,
        ...(font ? { font: isFontFile(font) ? path.resolve(manifestDir, font) : font } : {}),
        ...(style.size !== undefined ? { size: style.size } : {}),
        ...(style.position ? { position: style.position } : {}),
        ...(style.margin !== undefined ? { margin: style.margin } : {}),
        ...(style.color ? { color: style.color } : {}),
        ...(style.outline !== undefined ? { outline: style.outline } : {}),
        ...(style.box !== undefined ? { box: style.box } : {}),
        ...(style.box_color ? { boxColor: style.box_color } : {}),
      },
    };
  }
  const cards = (spec.cards ?? []).filter((card) => forVariant(card.variants, variant));
  if (cards.length > 0) {
    out.cards = cards.map((card) => ({
      text: captionText(card.text, cast),
      duration: card.duration,
      at: card.at ?? 'start',
      background:
        typeof card.background === 'object'
          ? { image: path.resolve(manifestDir, card.background.image) }
          : { color: card.background ?? '#000000' },
      color: card.color ?? '#ffffff',
      fade: card.fade ?? 0,
    }));
  }
  return out;
}

/** The local files the captions and cards read: the font file, the subtitle file, card images. */
export function captionFiles(options: {
  captions?: CaptionOptions;
  cards?: CardOptions[];
}): string[] {
  const files: string[] = [];
  const font = options.captions?.style.font;
  if (font && isFontFile(font)) files.push(font);
  if (options.captions?.file) files.push(options.captions.file);
  for (const card of options.cards ?? [])
    if ('image' in card.background) files.push(card.background.image);
  return files;
}
