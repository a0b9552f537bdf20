/**
 * Captions of a final: SRT and VTT read and written, cues placed on the cut's timeline, and
 * the drawtext filters that burn them into the picture. Pure: no files, no processes.
 */
import { EXIT_CODES, MediaError } from '../errors.js';
import { hasCjk } from '../manifest/caption-rules.js';

/** One caption in seconds of the output. */
export interface Cue {
  start: number;
  end: number;
  text: string;
}

/** One caption of a shot, in seconds of its kept part (after the trim); no end: to its end. */
export interface ClipCaption {
  text: string;
  start?: number;
  end?: number;
}

export interface CaptionStyle {
  /** A font file (absolute) or a family name, as the manifest gives it; none: the default. */
  font?: string;
  /** Text height as a share of the frame height. */
  size: number;
  position: 'bottom' | 'top' | 'middle';
  /** Distance from the frame's edge as a share of its height. */
  margin: number;
  color: string;
  /** Outline width as a share of the text size; 0 for none. */
  outline: number;
  box: boolean;
  boxColor: string;
}

export interface CaptionOptions {
  /** Each clip's captions, by clip id. */
  clips: Record<string, ClipCaption[]>;
  /** A subtitle file for the whole cut (absolute), its times seconds of the output. */
  file?: string;
  /** The cues of `file`, read by the stitcher before planning. */
  fileCues?: Cue[];
  /** Draw them into the picture (besides the soft track and the sidecars). */
  burn: boolean;
  /** ISO 639-2 tag of the subtitle track. */
  language?: string;
  style: CaptionStyle;
  /** The font file drawtext uses, found by the stitcher (fonts.ts) before planning. */
  fontFile?: string;
}

export const DEFAULT_CAPTION_STYLE: CaptionStyle = {
  size: 0.05,
  position: 'bottom',
  margin: 0.05,
  color: '#ffffff',
  outline: 0.08,
  box: false,
  boxColor: '#000000',
};

export { hasCjk };

function stamp(seconds: number, sep: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`;
}

/** Cue text as a subtitle file holds it: no blank lines (they end a cue), no CR. */
function cueText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .join('\n');
}

export function writeSrt(cues: readonly Cue[]): string {
  return cues
    .map(
      (c, i) => `${i + 1}\n${stamp(c.start, ',')} --> ${stamp(c.end, ',')}\n${cueText(c.text)}\n`,
    )
    .join('\n');
}

export function writeVtt(cues: readonly Cue[]): string {
  const escape = (t: string) =>
    t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `WEBVTT\n\n${cues
    .map((c) => `${stamp(c.start, '.')} --> ${stamp(c.end, '.')}\n${escape(cueText(c.text))}\n`)
    .join('\n')}`;
}

const TIME = /^(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})$/;

function parseTime(text: string): number | undefined {
  const m = TIME.exec(text.trim());
  if (!m) return undefined;
  const [, h, min, s, frac] = m;
  return Number(h ?? 0) * 3600 + Number(min) * 60 + Number(s) + Number(frac!.padEnd(3, '0')) / 1000;
}

/**
 * Reads an SRT or WebVTT file's cues. Throws a MediaError naming the line of a cue whose
 * times cannot be read. VTT markup (`<i>`, entities) is kept as text except `&amp; &lt; &gt;`.
 */
export function parseSubtitles(text: string, name: string): Cue[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  const cues: Cue[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.includes('-->')) continue;
    const [from = '', rest = ''] = line.split('-->');
    const start = parseTime(from);
    const end = parseTime(rest.trim().split(/\s+/)[0] ?? '');
    if (start === undefined || end === undefined || end <= start) {
      throw new MediaError(`${name}:${i + 1}: cannot read the cue times "${line.trim()}"`, {
        code: 'captions_invalid',
        exitCode: EXIT_CODES.badInput,
        fix: 'write times as 00:00:01,000 --> 00:00:02,500 (SRT) or 00:00:01.000 --> 00:00:02.500 (VTT), end after start',
      });
    }
    const body: string[] = [];
    while (i + 1 < lines.length && lines[i + 1]!.trim() !== '') body.push(lines[++i]!);
    const decoded = body
      .join('\n')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    if (decoded.trim() !== '') cues.push({ start, end, text: decoded });
  }
  return cues;
}

/** Where a clip plays in the output (a `TimelineItem` of kind clip). */
export interface PlacedClip {
  id: string;
  start: number;
  end: number;
}

const ms = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The cues of a cut, in output seconds. A clip's captions are shifted by where the clip plays;
 * where a transition joins two clips, the caption changes in the middle of the transition, so
 * each clip's captions are cut to that part. The cut-wide cues are added as they are. Sorted,
 * and never overlapping: a cue ends where the next begins.
 */
export function placeCues(
  clips: readonly PlacedClip[],
  captions: Record<string, readonly ClipCaption[]>,
  cutCues: readonly Cue[],
  length: number,
): Cue[] {
  const cues: Cue[] = [];
  clips.forEach((clip, k) => {
    const own = Object.hasOwn(captions, clip.id) ? captions[clip.id]! : [];
    const prev = clips[k - 1];
    const next = clips[k + 1];
    const from = prev && prev.end > clip.start ? (prev.end + clip.start) / 2 : clip.start;
    const to = next && next.start < clip.end ? (next.start + clip.end) / 2 : clip.end;
    for (const c of own) {
      const start = Math.max(from, clip.start + (c.start ?? 0));
      const end = Math.min(to, c.end === undefined ? clip.end : clip.start + c.end);
      if (end > start) cues.push({ start, end, text: c.text });
    }
  });
  for (const c of cutCues) {
    const end = Math.min(c.end, length);
    if (end > c.start) cues.push({ ...c, end });
  }
  cues.sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Cue[] = [];
  cues.forEach((c, i) => {
    const after = cues[i + 1];
    const end = after ? Math.min(c.end, after.start) : c.end;
    if (ms(end) > ms(c.start)) out.push({ start: ms(c.start), end: ms(end), text: c.text });
  });
  return out;
}

/**
 * Escapes a value for a filter option inside `-filter_complex`: once for the option parser
 * (`\ ' :`), then once for the graph parser (`\ ' [ ] , ;`).
 */
export function filterValue(value: string): string {
  const option = value.replace(/[\\':]/g, (c) => `\\${c}`);
  return option.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}

function hexColor(color: string, alpha?: number): string {
  return `0x${color.replace(/^#/, '')}${alpha === undefined ? '' : `@${alpha}`}`;
}

/** What one drawtext draws: its text file, and when; no `enable`: always. */
export interface DrawnText {
  textFile: string;
  fontFile: string;
  /** Pixels. */
  fontSize: number;
  color: string;
  /** Pixels; 0 for none. */
  outline: number;
  box?: string;
  /** `bottom`/`top`/`middle` with a margin in pixels. */
  position: CaptionStyle['position'];
  margin: number;
  enable?: { start: number; end: number };
  /** Where the text's top is, as a drawtext expression; default from `position` and `margin`. */
  y?: string;
}

function seconds(x: number): string {
  return String(Number(x.toFixed(6)));
}

/**
 * One drawtext filter. The text comes from a file with expansion off, so nothing in it (quotes,
 * colons, backslashes, %, brackets, line breaks) is read as filter syntax.
 */
export function drawtextFilter(d: DrawnText): string {
  const y =
    d.y ??
    (d.position === 'top'
      ? `${d.margin}`
      : d.position === 'middle'
        ? '(h-text_h)/2'
        : `h-text_h-${d.margin}`);
  const look = d.box
    ? [
        `box=1`,
        `boxcolor=${hexColor(d.box, 0.6)}`,
        `boxborderw=${Math.max(1, Math.round(d.fontSize / 4))}`,
      ]
    : d.outline > 0
      ? [`borderw=${d.outline}`, 'bordercolor=0x000000']
      : [];
  const parts = [
    `fontfile=${filterValue(d.fontFile)}`,
    `textfile=${filterValue(d.textFile)}`,
    'expansion=none',
    `fontsize=${d.fontSize}`,
    `fontcolor=${hexColor(d.color)}`,
    `line_spacing=${Math.round(d.fontSize / 5)}`,
    'x=(w-text_w)/2',
    `y=${y}`,
    ...look,
    ...(d.enable
      ? [
          `enable=${filterValue(`gte(t,${seconds(d.enable.start)})*lt(t,${seconds(d.enable.end)})`)}`,
        ]
      : []),
  ];
  return `drawtext=${parts.join(':')}`;
}

/** The drawtext settings of burned captions at an output height, without text and timing. */
export function captionLook(
  style: CaptionStyle,
  height: number,
): Omit<DrawnText, 'textFile' | 'fontFile' | 'enable'> {
  const fontSize = Math.max(8, Math.round(style.size * height));
  return {
    fontSize,
    color: style.color,
    outline: style.box ? 0 : Math.round(style.outline * fontSize),
    ...(style.box ? { box: style.boxColor } : {}),
    position: style.position,
    margin: Math.round(style.margin * height),
  };
}

/**
 * Draws text line by line, each line its own drawtext (from its own file) centred on the frame,
 * the lines stacked from `position` (drawtext alone would left-align the lines of a block).
 */
export function drawtextLines(
  d: Omit<DrawnText, 'textFile' | 'y'>,
  text: string,
  fileOf: (line: number) => string,
): { filters: string[]; files: { path: string; content: string }[] } {
  const lines = text.split('\n');
  const gap = Math.round(d.fontSize / 5);
  const step = d.fontSize + gap;
  const height = lines.length * step - gap;
  const top = (i: number): string =>
    d.position === 'top'
      ? `${d.margin + i * step}`
      : d.position === 'middle'
        ? `(h-${height})/2+${i * step}`
        : `h-${d.margin + height - i * step}`;
  const files = lines.map((content, i) => ({ path: fileOf(i), content }));
  const filters = files.map((f, i) => drawtextFilter({ ...d, textFile: f.path, y: top(i) }));
  return { filters, files };
}

/** Characters drawn about one em wide: CJK ideographs, kana, hangul, full-width forms. */
const WIDE_CHARS =
  '\\u1100-\\u115f\\u2e80-\\ua4cf\\uac00-\\ud7a3\\uf900-\\ufaff\\ufe30-\\ufe4f\\uff00-\\uff60\\uffe0-\\uffe6';
const WIDE = new RegExp(`[${WIDE_CHARS}]`, 'u');
/** A word (a run of narrow characters), one wide character, or a run of spaces. */
const TOKENS = new RegExp(`[^\\s${WIDE_CHARS}]+|\\s+|.`, 'gu');

/**
 * A character's drawn width in ems, estimated: one for wide characters, 0.7 for capitals, 0.32
 * for a space, 0.55 for the rest (a sans font's lower case, digits and punctuation).
 */
function ems(ch: string): number {
  if (WIDE.test(ch)) return 1;
  if (ch === ' ') return 0.32;
  return /\p{Lu}/u.test(ch) ? 0.7 : 0.55;
}

/**
 * Breaks text drawn at `fontSize` into lines no wider than `maxWidth` pixels (estimated widths:
 * drawtext does not wrap, so a long caption on a 9:16 frame would run off both edges). Latin
 * text breaks at spaces, CJK between any two characters; a word longer than a line is cut.
 * Line breaks already in the text are kept.
 */
export function wrapText(text: string, fontSize: number, maxWidth: number): string {
  const limit = Math.max(1, maxWidth / fontSize);
  return text
    .split('\n')
    .map((line) => wrapLine(line, limit))
    .join('\n');
}

function wrapLine(line: string, limit: number): string {
  const lines: string[] = [];
  let current = '';
  let width = 0;
  const push = (): void => {
    lines.push(current.trimEnd());
    current = '';
    width = 0;
  };
  const add = (part: string, w: number): void => {
    current += part;
    width += w;
  };
  for (const token of line.match(TOKENS) ?? []) {
    const w = [...token].reduce((sum, ch) => sum + ems(ch), 0);
    if (/^\s+$/.test(token)) {
      if (current !== '') add(token, w);
      continue;
    }
    if (width + w > limit && current.trim() !== '') push();
    if (w <= limit) {
      add(token, w);
      continue;
    }
    for (const ch of token) {
      if (width + ems(ch) > limit && current !== '') push();
      add(ch, ems(ch));
    }
  }
  if (current.trim() !== '' || lines.length === 0) lines.push(current.trimEnd());
  return lines.join('\n');
}
