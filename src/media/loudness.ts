/**
 * Loudness of a deliverable: the two loudnorm passes (measure, then normalise linearly with what
 * was measured) and the ebur128 measurement of the written file. Pure: builders of filter and
 * argument strings, parsers of what ffmpeg prints.
 */
import { MediaError } from '../errors.js';

/** Integrated loudness (LUFS) and true-peak ceiling (dBTP) to reach. */
export interface LoudnessTarget {
  target: number;
  truePeak: number;
}

/** What loudnorm's first pass measured, fed to the second. */
export interface LoudnormMeasured {
  i: number;
  tp: number;
  lra: number;
  thresh: number;
  offset: number;
}

/** The measured loudness of a written file, as the report shows it. */
export interface MeasuredLoudness {
  /** Integrated loudness, LUFS. */
  integrated: number;
  /** Loudness range, LU. */
  range: number;
  /** True peak, dBTP. */
  true_peak: number;
}

/** The presets a manifest may name, in LUFS / dBTP. */
export const LOUDNESS_PRESETS: Record<'streaming' | 'broadcast', LoudnessTarget> = {
  streaming: { target: -14, truePeak: -1 },
  broadcast: { target: -23, truePeak: -1 },
};

/** The range loudnorm is told to keep: wide, so a linear gain is not refused for a lively mix. */
const LRA_TARGET = 20;

/** The filters a loudness pass needs; a build without them gets a clear message. */
export const LOUDNESS_FILTERS = ['loudnorm', 'ebur128'] as const;

function n(x: number): string {
  return String(Number(x.toFixed(2)));
}

/**
 * The loudnorm filter of one pass: without `measured` the first pass (prints its JSON), with it
 * the second (a linear gain reaching the target, then back to 48 kHz: loudnorm works at 192).
 */
export function loudnormFilter(target: LoudnessTarget, measured?: LoudnormMeasured): string {
  const base = `loudnorm=I=${n(target.target)}:TP=${n(target.truePeak)}:LRA=${LRA_TARGET}`;
  if (!measured) return `${base}:print_format=json`;
  const pass2 = [
    `${base}:measured_I=${n(measured.i)}:measured_TP=${n(measured.tp)}`,
    `measured_LRA=${n(measured.lra)}:measured_thresh=${n(measured.thresh)}`,
    `offset=${n(measured.offset)}:linear=true:print_format=summary`,
  ].join(':');
  return `${pass2},aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo`;
}

function noAudio(what: string): MediaError {
  return new MediaError(`${what}: the cut's audio is silent, so it has no loudness to normalise`, {
    code: 'loudness_silent',
    fix: 'give the cut some sound (audio: keep, or a soundtrack), or remove loudness',
  });
}

/** Reads the JSON loudnorm's first pass printed (the last `{...}` holding `input_i`). */
export function parseLoudnormJson(stderr: string, what = 'loudness'): LoudnormMeasured {
  const start = stderr.lastIndexOf('{');
  const end = stderr.indexOf('}', start);
  if (start < 0 || end < 0) {
    throw new MediaError(`${what}: ffmpeg printed no loudnorm measurement`, {
      code: 'loudness_unmeasured',
      fix: 'run with an ffmpeg that has the loudnorm filter (ffmpeg >= 3.1) via FFMPEG_PATH',
    });
  }
  const json = JSON.parse(stderr.slice(start, end + 1)) as Record<string, string>;
  const read = (key: string): number => {
    const v = Number(json[key]);
    if (!Number.isFinite(v)) throw noAudio(what);
    return v;
  };
  return {
    i: read('input_i'),
    tp: read('input_tp'),
    lra: read('input_lra'),
    thresh: read('input_thresh'),
    offset: read('target_offset'),
  };
}

/** Reads the summary ebur128 prints at the end: integrated loudness, range and true peak. */
export function parseEbur128Summary(stderr: string): MeasuredLoudness | undefined {
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const value = (re: RegExp): number | undefined => {
    const m = re.exec(summary);
    if (!m) return undefined;
    return m[1] === '-inf' ? -Infinity : Number(m[1]);
  };
  const integrated = value(/\bI:\s+(-inf|-?\d+(?:\.\d+)?) LUFS/);
  const range = value(/\bLRA:\s+(-?\d+(?:\.\d+)?) LU\b/);
  const peak = value(/\bPeak:\s+(-inf|-?\d+(?:\.\d+)?) dBFS/);
  if (integrated === undefined || range === undefined || peak === undefined) return undefined;
  return { integrated, range, true_peak: peak };
}

/** ffmpeg's arguments (without the binary) that measure a file's audio with ebur128. */
export function ebur128Args(file: string): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'],
    ...['-i', file, '-map', '0:a:0', '-af', 'ebur128=peak=true', '-f', 'null', '-'],
  ];
}

/**
 * The first pass of a stitch's arguments: the same inputs and filtergraph, its output thrown
 * away (null muxer), ffmpeg's log at info level so loudnorm's JSON is printed.
 */
export function measurePassArgs(args: readonly string[]): string[] {
  const cut = args.indexOf('-c:v');
  const head = (cut < 0 ? args : args.slice(0, cut)).map((a, i, all) =>
    all[i - 1] === '-loglevel' ? 'info' : a,
  );
  return [...head, '-f', 'null', '-'];
}
