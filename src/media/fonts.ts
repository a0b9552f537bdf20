/**
 * Finds the font file captions and cards are drawn with, in a fixed order so a final looks the
 * same on every run: the style's font (a file, or a family name through fc-match), then known
 * CJK font files, then fontconfig's choice for Chinese. Answers are cached per process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES, MediaError } from '../errors.js';
import { CJK_FONT_FIX, hasCjk, isFontFile } from '../manifest/caption-rules.js';

/** CJK-capable font files of common packages (Debian/Ubuntu fonts-noto-cjk, Fedora, Arch, macOS). */
export const KNOWN_CJK_FONTS = [
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc',
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  '/System/Library/Fonts/PingFang.ttc',
  '/System/Library/Fonts/Hiragino Sans GB.ttc',
];

/** Plain Latin fonts to fall back on where fontconfig is missing. */
const KNOWN_FONTS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/System/Library/Fonts/Helvetica.ttc',
];

const cache = new Map<string, string | undefined>();

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function fontconfig(args: string[]): string | undefined {
  const key = args.join('\0');
  if (cache.has(key)) return cache.get(key);
  let answer: string | undefined;
  try {
    const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 10_000 });
    answer = r.status === 0 ? r.stdout.trim() : undefined;
  } catch {
    answer = undefined;
  }
  cache.set(key, answer);
  return answer;
}

/** The file fontconfig picks for a pattern, or undefined without fontconfig. */
function fcMatch(pattern: string): string | undefined {
  const file = fontconfig(['fc-match', '-f', '%{file}', pattern]);
  return file && isFile(file) ? file : undefined;
}

/** Whether fontconfig says a font file covers Chinese (fc-match falls back to any font). */
function coversCjk(file: string): boolean {
  const list = fontconfig(['fc-list', ':lang=zh', 'file']) ?? '';
  return list.split('\n').some((line) => line.replace(/:\s*$/, '') === file);
}

export { isFontFile };

/**
 * Whether a font file has a glyph for every CJK character of `text` (its first face, the one
 * drawtext uses), by fontconfig's charset of the file; undefined without fontconfig.
 */
export function fontCovers(file: string, text: string): boolean | undefined {
  const charset = fontconfig(['fc-query', '-i', '0', '-f', '%{charset}', file]);
  if (charset === undefined) return undefined;
  const ranges = charset
    .split(/\s+/)
    .filter(Boolean)
    .map((r) => r.split('-').map((n) => parseInt(n, 16)))
    .map(([lo, hi]) => [lo!, hi ?? lo!] as const);
  return [...text]
    .filter((ch) => hasCjk(ch))
    .every((ch) => {
      const code = ch.codePointAt(0)!;
      return ranges.some(([lo, hi]) => code >= lo && code <= hi);
    });
}

/** A named font that lacks CJK glyphs the text needs: the error, naming the font and the fix. */
function lacksCjk(file: string): MediaError {
  return new MediaError(
    `the caption font ${file} has no glyphs for the Chinese, Japanese or Korean text (it would draw boxes)`,
    { code: 'font_missing', exitCode: EXIT_CODES.badInput, fix: CJK_FONT_FIX },
  );
}

/**
 * The font file to draw `texts` with. `font` is the style's: an absolute file, or a family
 * name fc-match resolves. Without one: a known CJK font when a text needs it, else fontconfig's
 * default sans. Throws a MediaError saying what to install when nothing fits.
 */
export function findFont(font: string | undefined, needsCjk: boolean, sample = '中'): string {
  if (font !== undefined) {
    const file = namedFont(font);
    if (needsCjk && fontCovers(file, sample) === false) throw lacksCjk(file);
    return file;
  }
  return defaultFont(needsCjk);
}

/** The file of the style's font: a file given, or the family's file through fc-match. */
function namedFont(font: string): string {
  if (isFontFile(font)) {
    if (!existsSync(font) || !isFile(font)) {
      throw new MediaError(`the caption font ${font} does not exist`, {
        code: 'font_missing',
        exitCode: EXIT_CODES.badInput,
        fix: 'name a .ttf, .otf or .ttc file relative to the manifest, or a family name',
      });
    }
    return path.resolve(font);
  }
  const matched = fcMatch(font);
  if (!matched) {
    throw new MediaError(`no font file found for the family "${font}"`, {
      code: 'font_missing',
      exitCode: EXIT_CODES.badInput,
      fix: 'install fontconfig (fc-match) and the font, or name a font file relative to the manifest',
    });
  }
  return matched;
}

/** Without a named font: a known CJK font when the text needs one, else the default sans. */
function defaultFont(needsCjk: boolean): string {
  if (needsCjk) {
    const known = KNOWN_CJK_FONTS.find(isFile);
    if (known) return known;
    const matched = fcMatch(':lang=zh');
    if (matched && coversCjk(matched)) return matched;
    throw new MediaError(
      'a caption or card has Chinese, Japanese or Korean text and no CJK font was found',
      {
        code: 'font_missing',
        exitCode: EXIT_CODES.badInput,
        fix: CJK_FONT_FIX,
      },
    );
  }
  const any = fcMatch('sans-serif') ?? KNOWN_FONTS.find(isFile) ?? KNOWN_CJK_FONTS.find(isFile);
  if (any) return any;
  throw new MediaError('no font was found to draw captions and cards with', {
    code: 'font_missing',
    exitCode: EXIT_CODES.badInput,
    fix: 'install a font (Debian/Ubuntu: apt-get install fonts-dejavu-core fonts-noto-cjk) or set stitch.captions.style.font',
  });
}

/**
 * Whether CJK `text` can be drawn: with the style's `font` (a file, already resolved against
 * the manifest's folder, or a family name) when named, which must have the glyphs, else with a
 * CJK-capable font this machine has where `findFont` looks. A named file that does not exist is
 * left to the files check (true here), and so is a font fontconfig cannot read.
 */
export function cjkFontFound(font?: string, text = '中'): boolean {
  if (font !== undefined && isFontFile(font) && !isFile(font)) return true;
  try {
    findFont(font, true, text);
    return true;
  } catch {
    return false;
  }
}
