import { existsSync } from 'node:fs';

/** The arguments every ffmpeg call of shotlist starts with: quiet, no prompts, overwrite. */
export const FFMPEG_HEAD: readonly string[] = [
  '-hide_banner',
  '-nostdin',
  '-loglevel',
  'error',
  '-y',
];

const LATIN_FONTS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/local/share/fonts/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  '/Library/Fonts/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

// Shot ids are often Chinese; DejaVu draws those as empty boxes, so a CJK font goes first.
const CJK_FONTS = [
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
  '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf',
];

const CJK = /[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]/;

/** A font file on this machine that can draw `texts` (CJK first when any needs it), if any. */
export function findFont(texts: readonly string[] = []): string | undefined {
  const candidates = texts.some((t) => CJK.test(t)) ? [...CJK_FONTS, ...LATIN_FONTS] : LATIN_FONTS;
  return candidates.find((f) => existsSync(f));
}
