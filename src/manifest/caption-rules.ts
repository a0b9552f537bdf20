/**
 * `validate`'s checks of captions and cards: a caption within its shot's kept part, cues of a
 * shot in order without overlap, cards next to shots of the cut, the files they read, and a
 * font for Chinese, Japanese or Korean text.
 */
import path from 'node:path';
import { LIMITS } from '../models.js';
import type { Collector } from './collector.js';
import { checkLocalFile } from './local-files.js';
import type { ManifestPath } from './positions.js';
import type { ResolvedShot } from './request.js';
import type { Report } from './stitch-rules.js';
import type { ShotlistManifest } from './types.gen.js';

function seconds(n: number): string {
  return `${Number(n.toFixed(3))} s`;
}

/** What the stitcher keeps of a shot: its trimmed length in this variant. */
function keptLength(shot: ResolvedShot): number {
  const length = shot.duration ?? LIMITS.durationDefault;
  const end = Math.min(shot.trim?.end ?? length, length);
  return Math.max(0, end - (shot.trim?.start ?? 0));
}

/**
 * A shot's timed captions lie within its kept part (seconds after the trim), each ends after
 * it starts, and none overlaps the one before it. `caption` is the shot's own field, as written.
 */
export function checkShotCaptions(
  shot: ResolvedShot,
  caption: unknown,
  shotPath: ManifestPath,
  report: Report,
): void {
  if (!Array.isArray(caption)) return;
  const kept = keptLength(shot);
  const lasts = `shot ${shot.id} keeps ${seconds(kept)}${shot.trim ? ' after its trim' : ''}${shot.variant ? ` in variant ${shot.variant}` : ''}`;
  let before: { end: number } | undefined;
  (caption as { start?: number; end?: number }[]).forEach((cue, i) => {
    const at = [...shotPath, 'caption', i];
    const start = cue.start ?? 0;
    const end = cue.end ?? kept;
    if (start >= kept) {
      report(
        [...at, 'start'],
        `caption start ${start} is past the end: ${lasts}`,
        `start it before ${seconds(kept)}`,
      );
      return;
    }
    if (cue.end !== undefined && cue.end > kept + 1e-6) {
      report(
        [...at, 'end'],
        `caption end ${cue.end} is past the end: ${lasts}`,
        `end it at most at ${seconds(kept)}, or leave end out (to the end of the shot)`,
      );
    }
    if (end <= start) {
      report(
        [...at, 'end'],
        `caption end ${end} is not after its start ${start}`,
        'give each caption an end after its start',
      );
      return;
    }
    if (before && start < before.end - 1e-6) {
      report(
        [...at, 'start'],
        `caption starts at ${start}, before the caption above it ends (at ${before.end})`,
        `start it at ${before.end} or later: captions of a shot follow one another`,
      );
    }
    before = { end: Math.min(end, kept) };
  });
}

/** What to do when CJK text has no font to draw it. */
export const CJK_FONT_FIX =
  'install a CJK font (Debian/Ubuntu: apt-get install fonts-noto-cjk; scripts/setup.sh does it) or set stitch.captions.style.font to a font file that has the characters';

/** Chinese, Japanese or Korean characters: text that needs a CJK-capable font. */
export function hasCjk(text: string): boolean {
  return /[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[\u{20000}-\u{3134f}]/u.test(
    text,
  );
}

/** Every text captions and cards draw, with where it is written. */
function drawnTexts(manifest: ShotlistManifest): { path: ManifestPath; text: string }[] {
  const texts: { path: ManifestPath; text: string }[] = [];
  manifest.shots.forEach((shot, s) => {
    const caption = shot?.caption;
    if (typeof caption === 'string') texts.push({ path: ['shots', s, 'caption'], text: caption });
    else if (Array.isArray(caption)) {
      caption.forEach((c, i) => {
        if (typeof c?.text === 'string')
          texts.push({ path: ['shots', s, 'caption', i, 'text'], text: c.text });
      });
    }
  });
  manifest.stitch?.cards?.forEach((card, k) => {
    if (typeof card?.text === 'string')
      texts.push({ path: ['stitch', 'cards', k, 'text'], text: card.text });
  });
  return texts;
}

/**
 * Cards placed next to shots of the cut, and a font for CJK text: `cjkFont` says whether this
 * machine has one (asked only when such text is drawn and no style font is named).
 */
export function checkCaptionLayers(
  manifest: ShotlistManifest,
  out: Collector,
  cjkFont: ((font: string | undefined, text: string) => boolean) | undefined,
  dir?: string,
): void {
  const order = manifest.stitch?.order ?? manifest.shots.map((s) => s?.id);
  manifest.stitch?.cards?.forEach((card, k) => {
    const at = card?.at;
    if (!at || typeof at !== 'object') return;
    const [side, id] = 'before' in at ? ['before', at.before] : ['after', at.after];
    if (order.includes(id)) return;
    out.at(
      'error',
      ['stitch', 'cards', k, 'at', side],
      `card ${k + 1} is placed ${side} shot "${id}", which is not in the cut`,
      `name one of ${order.join(', ')}, or use at: start or at: end`,
    );
  });
  if (!cjkFont) return;
  const cjk = drawnTexts(manifest).find((t) => hasCjk(t.text));
  if (!cjk) return;
  const named = manifest.stitch?.captions?.style?.font;
  const font =
    typeof named === 'string' && isFontFile(named) && dir !== undefined
      ? path.resolve(dir, named)
      : typeof named === 'string'
        ? named
        : undefined;
  if (cjkFont(font, cjk.text)) return;
  out.at(
    'error',
    cjk.path,
    font === undefined
      ? 'this text has Chinese, Japanese or Korean characters and no CJK font was found on this machine'
      : `this text has Chinese, Japanese or Korean characters that the caption font ${named} has no glyphs for (they would be drawn as boxes)`,
    CJK_FONT_FIX,
  );
}

/** Whether a style's `font` names a file rather than a family: a path or a font file's extension. */
export function isFontFile(font: string): boolean {
  return /[/\\]/.test(font) || /\.(ttf|otf|ttc|otc|woff2?)$/i.test(font);
}

/** The files captions and cards read: a style font given as a file, the subtitle file, card images. */
export function checkCaptionFiles(
  manifest: ShotlistManifest,
  out: Collector,
  dir: string,
  allowOutside: boolean,
): void {
  const captions = manifest.stitch?.captions;
  const files: { path: ManifestPath; ref: string; what: string }[] = [];
  const font = captions?.style?.font;
  if (font && isFontFile(font))
    files.push({ path: ['stitch', 'captions', 'style', 'font'], ref: font, what: 'font file' });
  if (captions?.file)
    files.push({ path: ['stitch', 'captions', 'file'], ref: captions.file, what: 'subtitle file' });
  manifest.stitch?.cards?.forEach((card, k) => {
    const bg = card?.background;
    if (bg && typeof bg === 'object')
      files.push({
        path: ['stitch', 'cards', k, 'background', 'image'],
        ref: bg.image,
        what: 'card image',
      });
  });
  for (const f of files) {
    const problem = checkLocalFile(f.ref, dir, f.what, allowOutside);
    if (problem) out.at('error', f.path, problem.message, problem.fix);
  }
}
