/**
 * Finds the font file captions and cards are drawn with, in a fixed order so a final looks the
 * same on every run: the style's font (a file, or a family name through fc-match), then known
 * CJK font files, then fontconfig's choice for Chinese. Answers are cached per process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES, MediaError } from '../errors.js';
import { CJK_FONT_FIX, isFontFile } from '../manifest/caption-rules.js';

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
 * The font file to draw `texts` with. `font` is the style's: an absolute file, or a family
 * name fc-match resolves. Without one: a known CJK font when a text needs it, else fontconfig's
 * default sans. Throws a MediaError saying what to install when nothing fits.
 */
export function findFont(font: string | undefined, needsCjk: boolean): string {
  if (font !== undefined) {
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

/** Whether this machine has a CJK-capable font where `findFont` looks for one. */
export function cjkFontFound(): boolean {
  try {
    findFont(undefined, true);
    return true;
  } catch {
    return false;
  }
}
