import path from 'node:path';
import { EXIT_CODES, MediaError } from '../errors.js';
import type { ProbeResult } from './probe.js';
import { FFMPEG_HEAD } from './ffmpeg-common.js';
import type { CaptionOptions, Cue } from './captions.js';
import type { CardOptions } from './cards.js';
import { captionGraph, cutGraph, layersBlocker, type LayerParts } from './layer-graph.js';
import { OVERLAY_FILTERS, overlayLayers, type Overlay } from './overlay.js';
import {
  VOICE_FILTERS,
  soundLayers,
  soundtrackFit,
  type Duck,
  type SoundtrackFit,
  type Voiceover,
} from './voice.js';
import { checkTools, videoArgs, type StitchEncoding } from './encoding.js';
import {
  LOUDNESS_FILTERS,
  loudnormFilter,
  type LoudnessTarget,
  type LoudnormMeasured,
} from './loudness.js';

/**
 * The transitions of ffmpeg's `xfade` filter as of ffmpeg 4.3, the first release that has it,
 * so every name here works wherever xfade exists.
 */
export const XFADE_TRANSITIONS = [
  'fade',
  'dissolve',
  'wipeleft',
  'wiperight',
  'wipeup',
  'wipedown',
  'slideleft',
  'slideright',
  'slideup',
  'slidedown',
  'circlecrop',
  'rectcrop',
  'distance',
  'fadeblack',
  'fadewhite',
  'radial',
  'smoothleft',
  'smoothright',
  'smoothup',
  'smoothdown',
  'circleopen',
  'circleclose',
  'vertopen',
  'vertclose',
  'horzopen',
  'horzclose',
  'pixelize',
  'diagtl',
  'diagtr',
  'diagbl',
  'diagbr',
  'hlslice',
  'hrslice',
  'vuslice',
  'vdslice',
] as const;

export type XfadeTransition = (typeof XFADE_TRANSITIONS)[number];
export type TransitionType = 'cut' | XfadeTransition;

/** Every transition type a manifest may name: `cut` and the xfade names. */
export const TRANSITION_TYPES: readonly TransitionType[] = ['cut', ...XFADE_TRANSITIONS];

export interface Transition {
  type: TransitionType;
  /** Seconds; ignored for `cut`. */
  duration: number;
}

export interface StitchClip {
  file: string;
  id: string;
  /** Seconds into the clip: keep [start, end). `end` is a time in the clip, not a length. */
  trim?: { start?: number; end?: number };
  /** The transition from this clip to the next one; overrides `StitchOptions.transition`. */
  transition?: Transition;
}

export interface Soundtrack {
  /** A local path or an http(s) URL, read by ffmpeg. */
  file: string;
  /** Gain applied to the soundtrack, e.g. 1 when replacing, 0.3 when mixing under. */
  volume: number;
  /** Seconds of fade-out ending at the end of the video; 0 for none. */
  fadeOut: number;
  mode: 'mix' | 'replace';
  /** Fitting the track to the cut: none (silence after it), loop, or stretch_end (tempo). */
  fit?: SoundtrackFit;
}

export interface StitchOptions {
  /** Absolute path of the finished file. */
  output: string;
  /** In playing order. */
  clips: StitchClip[];
  /** The default transition between clips. */
  transition: Transition;
  /** `mute` drops the clips' own audio (the output has none unless a soundtrack is given). */
  audio: 'keep' | 'mute';
  soundtrack?: Soundtrack;
  /** The output's pixel size; odd numbers are rounded down to even ones. */
  size: { width: number; height: number };
  /** `pad` letterboxes a clip of another aspect, `crop` fills the frame and cuts the excess. */
  fit: 'pad' | 'crop';
  /** Output frame rate; defaults to the first clip's. */
  fps?: number;
  crf: number;
  preset: string;
  /** Captions: sidecar files, a soft subtitle track, and burned into the picture when asked. */
  captions?: CaptionOptions;
  /** Title, chapter and end cards: generated segments of the cut. */
  cards?: CardOptions[];
  /** Images laid over the video (a logo), in drawing order. */
  logo?: Overlay[];
  /** Voice-overs, placed in their clip or in the cut. */
  voiceovers?: Voiceover[];
  /** Lowering the soundtrack under speech; with voice-overs it ducks under them by default. */
  duck?: Duck;
  /** A deliverable's encoding (codec, rate, profile, scaler); overrides `crf` and `preset`. */
  encoding?: StitchEncoding;
  /** Loudness normalisation; `measured` (the first pass's findings) makes it the second pass. */
  loudness?: LoudnessTarget & { measured?: LoudnormMeasured };
}

/** What the plan needs to know about the ffmpeg that will run it. */
export interface PlanFeatures {
  filters: ReadonlySet<string>;
  encoders?: ReadonlySet<string>;
  version?: string;
  path?: string;
}

export interface PlanContext {
  features: PlanFeatures;
  /** Where ffmpeg writes; defaults to `options.output` (stitch passes a temporary name). */
  outputFile?: string;
  /** Where the concat list will be written for the copy path; defaults beside the output. */
  listFile?: string;
  /** The soundtrack's length in seconds, when known: `fit: stretch_end` needs it. */
  soundtrackSec?: number;
}

export interface StitchPlan {
  path: 'copy' | 'normalise';
  /** ffmpeg's arguments, without the binary. */
  args: string[];
  /** The concat demuxer list to write to `listFile` before running the copy path. */
  concatList?: string;
  listFile?: string;
  expectedDurationSec: number;
  /** Frame rate of the output, for tolerance checks. */
  fps: number;
  /** How far the result's duration may be from the expected one; default two frames and an AAC frame. */
  toleranceSec?: number;
  warnings: string[];
  /** Where each part of the cut plays, in seconds of the output, in playing order. */
  timeline: TimelineItem[];
  /** Files to write before running ffmpeg and remove after (caption texts, subtitles). */
  files?: { path: string; content: string }[];
  /** The captions in output seconds, for the sidecar .srt and .vtt files. */
  cues?: Cue[];
}

/**
 * One part of the cut: a clip's kept part (`index` into `StitchOptions.clips`). `start` and `end`
 * are seconds in the output; with a transition, neighbouring items overlap by its length.
 */
export interface TimelineItem {
  /** A clip's kept part, or a card (`StitchOptions.cards`). */
  kind: 'clip' | 'card';
  /** Into `StitchOptions.clips` for a clip, into `StitchOptions.cards` for a card. */
  index: number;
  /** The clip's shot id; `card-N` for a card. */
  id: string;
  start: number;
  end: number;
}

/** Where each segment plays in the output, given the transitions that join them. */
function timelineOf(
  segs: readonly { clip: StitchClip; duration: number }[],
  joins: readonly Transition[],
): TimelineItem[] {
  let start = 0;
  return segs.map((s, i) => {
    if (i > 0) start -= joins[i - 1]?.duration ?? 0;
    const item: TimelineItem = {
      kind: 'clip',
      index: i,
      id: s.clip.id,
      start,
      end: start + s.duration,
    };
    start = item.end;
    return item;
  });
}

const AUDIO_RATE = 48000;
const AUDIO_FORMAT = `aformat=sample_fmts=fltp:sample_rates=${AUDIO_RATE}:channel_layouts=stereo`;

function invalid(message: string, fix: string): MediaError {
  return new MediaError(message, { code: 'stitch_invalid', exitCode: EXIT_CODES.badInput, fix });
}

/** Formats seconds for a filter argument: no exponent, no float noise like 4.499999999. */
export function num(x: number): string {
  const fixed = x.toFixed(6);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/**
 * Quotes a path for the concat demuxer's `file '...'` line. Inside single quotes nothing is
 * special, so a quote is written as: close the quote, an escaped quote, reopen (`'\''`).
 */
export function quoteConcatPath(file: string): string {
  if (/[\r\n]/.test(file)) {
    throw invalid(
      `the clip path ${JSON.stringify(file)} contains a line break, which ffmpeg's concat list cannot hold`,
      'rename the file without line breaks',
    );
  }
  return `'${file.replace(/'/g, `'\\''`)}'`;
}

/** The concat demuxer list for a set of files, absolute paths so the list may live anywhere. */
export function buildConcatList(files: readonly string[]): string {
  return (
    'ffconcat version 1.0\n' +
    files.map((f) => `file ${quoteConcatPath(path.resolve(f))}\n`).join('')
  );
}

/** The length of a clip's picture: the video stream's duration when known, else the file's. */
function clipDuration(info: ProbeResult): number {
  return info.video?.durationSec ?? info.durationSec;
}

function even(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}

function sarOf(info: ProbeResult): number {
  const [n, d] = (info.video?.sampleAspectRatio ?? '1:1').split(':').map(Number);
  return n && d ? n / d : 1;
}

/**
 * The scale (and pad or crop) that fits a clip into the output frame keeping its aspect.
 * Computed here rather than by `force_original_aspect_ratio` so the scaled size is always
 * even: yuv420p needs it, and `force_divisible_by` is missing from older ffmpeg builds.
 */
export function fitFilters(
  info: ProbeResult,
  width: number,
  height: number,
  fit: 'pad' | 'crop',
  scaler?: StitchEncoding['scaler'],
): string[] {
  const srcW = (info.video?.width ?? width) * sarOf(info);
  const srcH = info.video?.height ?? height;
  const scale =
    fit === 'pad' ? Math.min(width / srcW, height / srcH) : Math.max(width / srcW, height / srcH);
  let w = even(Math.round(srcW * scale));
  let h = even(Math.round(srcH * scale));
  if (fit === 'pad') {
    w = Math.min(w, width);
    h = Math.min(h, height);
  } else {
    w = Math.max(w, width);
    h = Math.max(h, height);
  }
  const filters = [`scale=${w}:${h}${scaler ? `:flags=${scaler}` : ''}`];
  if (w !== width || h !== height) {
    filters.push(
      fit === 'pad'
        ? `pad=${width}:${height}:${(width - w) / 2}:${(height - h) / 2}:color=black`
        : `crop=${width}:${height}:${(w - width) / 2}:${(h - height) / 2}`,
    );
  }
  return filters;
}

function sameAudio(a: ProbeResult['audio'], b: ProbeResult['audio']): boolean {
  if (!a || !b) return !a && !b;
  return (
    a.codec === b.codec &&
    a.sampleRate === b.sampleRate &&
    a.channels === b.channels &&
    a.channelLayout === b.channelLayout
  );
}

/**
 * Why the clips cannot simply be concatenated with `-c copy`, or null when they can.
 * Exported so a caller can tell the user why a re-encode happens.
 */
export function copyBlocker(options: StitchOptions, probes: readonly ProbeResult[]): string | null {
  if (options.clips.some((c) => c.trim && (c.trim.start !== undefined || c.trim.end !== undefined)))
    return 'a clip is trimmed';
  if (options.audio === 'mute') return 'the audio is muted';
  if (options.soundtrack) return 'a soundtrack is added';
  const layer = layersBlocker(options);
  if (layer) return layer;
  if (options.logo?.length) return 'a logo is laid over';
  if (options.voiceovers?.length) return 'a voice-over is added';
  if (options.encoding) return 'a deliverable is encoded';
  if (options.loudness) return 'the loudness is normalised';
  if (options.fps !== undefined) {
    const first = probes[0]?.video?.fps;
    if (first === undefined || Math.abs(first - options.fps) > 1e-3)
      return 'the frame rate changes';
  }
  const transitions = options.clips.slice(0, -1).map((c) => c.transition ?? options.transition);
  if (transitions.some((t) => t.type !== 'cut')) return 'a transition is asked for';
  const first = probes[0];
  if (!first?.video) return 'a clip has no video';
  for (const p of probes) {
    const v = p.video;
    if (!v) return `${p.file} has no video`;
    const f = first.video;
    if (v.codec !== f.codec) return 'the clips differ in codec';
    if (v.width !== f.width || v.height !== f.height) return 'the clips differ in size';
    if (v.pixFmt !== f.pixFmt) return 'the clips differ in pixel format';
    if (v.frameRate !== f.frameRate) return 'the clips differ in frame rate';
    if (v.timeBase !== f.timeBase) return 'the clips differ in time base';
    if (v.sampleAspectRatio !== f.sampleAspectRatio) return 'the clips differ in pixel aspect';
    if (!sameAudio(p.audio, first.audio)) return 'the clips differ in audio';
  }
  if (first.video.width !== options.size.width || first.video.height !== options.size.height)
    return 'the clips are not at the output size';
  return null;
}

interface Segment {
  clip: StitchClip;
  info: ProbeResult;
  start: number;
  end: number;
  duration: number;
}

function segments(options: StitchOptions, probes: readonly ProbeResult[]): Segment[] {
  return options.clips.map((clip, i) => {
    const info = probes[i];
    if (!info) throw invalid(`no probe for clip ${clip.id}`, 'probe every clip before planning');
    if (!info.video) {
      throw invalid(`clip ${clip.id} (${clip.file}) has no video stream`, 'render the shot again');
    }
    const full = clipDuration(info);
    const start = clip.trim?.start ?? 0;
    const wantedEnd = clip.trim?.end ?? full;
    // A trim end a hair past the probed end (rounding in the manifest) means "to the end".
    const end = Math.min(wantedEnd, full);
    if (start < 0 || wantedEnd - full > 0.05 || end - start <= 0) {
      throw invalid(
        `the trim of ${clip.id} (start ${start}, end ${wantedEnd}) does not fit its ${num(full)} s`,
        `choose 0 <= start < end <= ${num(full)}`,
      );
    }
    return { clip, info, start, end, duration: end - start };
  });
}

function describeTool(features: PlanFeatures): string {
  const version = features.version ? ` ${features.version}` : '';
  return `ffmpeg${version}${features.path ? ` at ${features.path}` : ''}`;
}

function outputFlags(file: string): string[] {
  return /\.(mp4|m4v|mov)$/i.test(file) ? ['-movflags', '+faststart'] : [];
}

const PROGRESS = ['-progress', 'pipe:1', '-nostats'];

/**
 * Chooses how to stitch probed clips and builds ffmpeg's arguments. Pure: the caller probes,
 * writes the concat list and runs ffmpeg. Throws a MediaError when the options cannot work
 * (a trim outside a clip, a transition longer than the clips it joins).
 */
export function planStitch(
  options: StitchOptions,
  probes: readonly ProbeResult[],
  ctx: PlanContext,
): StitchPlan {
  if (options.clips.length === 0)
    throw invalid('there are no clips to stitch', 'render some shots first');
  if (probes.length !== options.clips.length) {
    throw invalid(`${options.clips.length} clips but ${probes.length} probes`, 'probe every clip');
  }
  const outputFile = ctx.outputFile ?? options.output;
  const segs = segments(options, probes);
  if (copyBlocker(options, probes) === null) return copyPlan(options, segs, ctx, outputFile);
  return normalisePlan(options, segs, ctx, outputFile);
}

/** Joins clips that already match with the concat demuxer: streams copied, nothing re-encoded. */
function copyPlan(
  options: StitchOptions,
  segs: readonly Segment[],
  ctx: PlanContext,
  outputFile: string,
): StitchPlan {
  const listFile =
    ctx.listFile ??
    path.join(path.dirname(outputFile), `.${path.basename(options.output)}.concat.txt`);
  const measured = segs[0]!.info.video!.fps;
  const fps = Number.isFinite(measured) ? measured : 24;
  return {
    path: 'copy',
    args: [
      ...FFMPEG_HEAD,
      ...PROGRESS,
      ...['-f', 'concat', '-safe', '0', '-i', listFile],
      ...['-map', '0:v:0', ...(segs[0]!.info.audio ? ['-map', '0:a:0'] : [])],
      ...['-c', 'copy'],
      ...outputFlags(outputFile),
      outputFile,
    ],
    concatList: buildConcatList(options.clips.map((c) => c.file)),
    listFile,
    expectedDurationSec: segs.reduce((sum, s) => sum + s.info.durationSec, 0),
    fps,
    timeline: timelineOf(
      segs.map((s) => ({ clip: s.clip, duration: s.info.durationSec })),
      [],
    ),
    // ffprobe builds disagree on whether a file's AAC priming (one 1024-sample frame) counts
    // in its duration, and the concat demuxer counts it: each clip may add up to one frame.
    toleranceSec:
      2 / fps +
      segs.reduce(
        (sum, s) => sum + (s.info.audio ? 1024 / (s.info.audio.sampleRate || 44100) : 0),
        0,
      ),
    warnings: [],
  };
}

/**
 * The transition after each clip but the last, as it will be made: hard cuts where this
 * ffmpeg has no xfade (with a warning). Refuses a transition longer than the clips it joins.
 */
function planJoins(
  options: StitchOptions,
  segs: readonly Segment[],
  features: PlanFeatures,
  warnings: string[],
): Transition[] {
  const hasXfade = features.filters.has('xfade');
  const transitions = segs.slice(0, -1).map((s) => s.clip.transition ?? options.transition);
  const wanted = transitions.filter((t) => t.type !== 'cut');
  if (wanted.length > 0 && !hasXfade) {
    const names = [...new Set(wanted.map((t) => t.type))].join(', ');
    warnings.push(
      `${describeTool(features)} has no xfade filter (it came in ffmpeg 4.3), so the ${names} transition${wanted.length === 1 ? '' : 's'} became hard cuts; for real transitions install ffmpeg >= 4.3 (Debian: apt-get install ffmpeg) or set FFMPEG_PATH to an ffmpeg that has xfade`,
    );
  }
  const joins: Transition[] = transitions.map((t) =>
    t.type === 'cut' || !hasXfade ? { type: 'cut', duration: 0 } : t,
  );
  joins.forEach((t, i) => {
    if (t.type === 'cut') return;
    if (!(t.duration > 0)) {
      throw invalid(
        `the ${t.type} transition after ${segs[i]!.clip.id} has duration ${t.duration}`,
        'give transitions a duration above 0, or use type: cut',
      );
    }
    // Each clip is shared by the transition into it and the one out of it.
    const into = (k: number): number => (k > 0 ? (joins[k - 1]?.duration ?? 0) : 0);
    for (const k of [i, i + 1]) {
      const seg = segs[k]!;
      const used = into(k) + (joins[k]?.duration ?? 0);
      if (used > seg.duration + 1e-6) {
        throw invalid(
          `clip ${seg.clip.id} lasts ${num(seg.duration)} s but its transitions take ${num(used)} s`,
          'shorten the transition or trim less of the clip',
        );
      }
    }
  });
  return joins;
}

/** The filter chains that bring each clip to one size, rate and audio format: `[vN]`, `[aN]`. */
function segmentGraph(
  segs: readonly Segment[],
  shape: {
    fpsExpr: string;
    width: number;
    height: number;
    fit: StitchOptions['fit'];
    scaler?: StitchEncoding['scaler'];
  },
  usesXfade: boolean,
  clipAudio: boolean,
): string[] {
  const graph: string[] = [];
  segs.forEach((s, i) => {
    const v = [
      // fps before trim: ffmpeg 4.1's fps filter after a trim pads back to the untrimmed end.
      `fps=${shape.fpsExpr}`,
      `trim=start=${num(s.start)}:end=${num(s.end)}`,
      'setpts=PTS-STARTPTS',
      ...fitFilters(s.info, shape.width, shape.height, shape.fit, shape.scaler),
      'setsar=1',
      'format=yuv420p',
      // Into xfade, the fps filter's end-of-stream comes a frame early and xfade then drops the
      // last frame and shifts the rest; one cloned frame trimmed away again gives it a clean end.
      ...(usesXfade ? ['tpad=stop_mode=clone:stop=1', `trim=end=${num(s.duration)}`] : []),
      'settb=AVTB',
    ];
    graph.push(`[${i}:v:0]${v.join(',')}[v${i}]`);
    if (!clipAudio) return;
    // Every clip gets audio exactly as long as its picture, so the joins stay in sync.
    const a = s.info.audio
      ? [
          `[${i}:a:0]atrim=start=${num(s.start)}:end=${num(s.end)}`,
          'asetpts=PTS-STARTPTS',
          `aresample=${AUDIO_RATE}`,
          AUDIO_FORMAT,
          'apad',
          `atrim=end=${num(s.duration)}`,
        ]
      : [
          `anullsrc=channel_layout=stereo:sample_rate=${AUDIO_RATE}`,
          AUDIO_FORMAT,
          `atrim=end=${num(s.duration)}`,
        ];
    graph.push(`${a.join(',')},asetpts=PTS-STARTPTS[a${i}]`);
  });
  return graph;
}

/** Joins the segments with cuts (one concat) or transitions (a chain): the last labels and length. */
function joinGraph(
  segs: readonly Segment[],
  joins: readonly Transition[],
  clipAudio: boolean,
  graph: string[],
  parts: LayerParts = segs.map((s, i) => ({ v: `v${i}`, a: `a${i}`, duration: s.duration })),
): { video: string; audio: string; length: number } {
  if (joins.every((t) => t.type === 'cut')) {
    const length = parts.reduce((sum, s) => sum + s.duration, 0);
    if (parts.length === 1) return { video: parts[0]!.v, audio: parts[0]!.a, length };
    const inputs = parts.map((p) => (clipAudio ? `[${p.v}][${p.a}]` : `[${p.v}]`)).join('');
    graph.push(
      `${inputs}concat=n=${parts.length}:v=1:a=${clipAudio ? 1 : 0}[vcat]${clipAudio ? '[acat]' : ''}`,
    );
    return { video: 'vcat', audio: 'acat', length };
  }
  let video = parts[0]!.v;
  let audio = parts[0]!.a;
  let length = parts[0]!.duration;
  joins.forEach((t, k) => {
    const i = k + 1;
    const seg = parts[i]!;
    if (t.type === 'cut') {
      graph.push(
        clipAudio
          ? `[${video}][${audio}][${seg.v}][${seg.a}]concat=n=2:v=1:a=1[vj${i}][aj${i}]`
          : `[${video}][${seg.v}]concat=n=2:v=1:a=0[vj${i}]`,
      );
      length += seg.duration;
    } else {
      const offset = length - t.duration;
      graph.push(
        `[${video}][${seg.v}]xfade=transition=${t.type}:duration=${num(t.duration)}:offset=${num(offset)}[vj${i}]`,
      );
      if (clipAudio) {
        graph.push(`[${audio}][${seg.a}]acrossfade=d=${num(t.duration)}:c1=tri:c2=tri[aj${i}]`);
      }
      length += seg.duration - t.duration;
    }
    video = `vj${i}`;
    audio = `aj${i}`;
  });
  return { video, audio, length };
}

/** Adds the soundtrack as input `index`, mixed under or replacing the clips' audio. */
function soundtrackGraph(
  soundtrack: Soundtrack,
  index: number,
  length: number,
  clipAudio: string | null,
  graph: string[],
  fit: readonly string[] = [],
): string {
  const st = [
    `[${index}:a:0]asetpts=PTS-STARTPTS`,
    `aresample=${AUDIO_RATE}`,
    AUDIO_FORMAT,
    `volume=${num(soundtrack.volume)}`,
    ...fit,
    'apad',
    `atrim=end=${num(length)}`,
  ];
  const fade = Math.min(soundtrack.fadeOut, length);
  if (fade > 0) st.push(`afade=t=out:st=${num(length - fade)}:d=${num(fade)}`);
  graph.push(`${st.join(',')}[st]`);
  if (!clipAudio) return 'st';
  // amix divides every input by the number of inputs; volume=2 gives each its own level back.
  graph.push(`[${clipAudio}][st]amix=inputs=2:duration=first:dropout_transition=0,volume=2[amix]`);
  return 'amix';
}

/** Whether the options ask for a logo, voice-overs, ducking or a fitted soundtrack. */
function hasLayers(options: StitchOptions): boolean {
  return Boolean(
    options.logo?.length ||
    options.voiceovers?.length ||
    options.duck ||
    (options.soundtrack?.fit && options.soundtrack.fit !== 'none'),
  );
}

/** Refuses, naming it, a filter the layers need that this ffmpeg lacks. */
function checkLayerFilters(options: StitchOptions, features: PlanFeatures): void {
  const needed = [
    ...(options.logo?.length ? OVERLAY_FILTERS : []),
    ...(options.voiceovers?.length || options.duck ? VOICE_FILTERS : []),
    ...(options.soundtrack?.fit === 'stretch_end' ? ['atempo'] : []),
  ];
  const missing = needed.filter((f) => !features.filters.has(f));
  if (missing.length === 0) return;
  throw new MediaError(
    `${describeTool(features)} has no ${missing.join(', ')} filter${missing.length === 1 ? '' : 's'}, which the stitch's logo or sound layers need`,
    {
      code: 'tool_feature_missing',
      fix: 'install ffmpeg >= 4.3 (Debian: apt-get install ffmpeg) or set FFMPEG_PATH to an ffmpeg that has it',
    },
  );
}

/** What {@link finishGraph} builds on: the joined cut's labels, its timeline and the graph so far. */
interface FinishInput {
  video: string;
  audio: string | null;
  clipAudio: string | null;
  soundtrack: string | null;
  layered: boolean;
  timeline: TimelineItem[];
  length: number;
  size: { width: number; height: number };
  layerCtx: { outputFile: string; tool: PlanFeatures };
  /** The inputs so far: the layers add theirs after them. */
  inputs: string[];
  graph: string[];
  warnings: string[];
}

/**
 * The layers over the joined cut, in order: voice-overs and ducking, logos, captions (drawn over
 * the logo), then loudness on everything the cut plays. Adds inputs and filters; returns the
 * labels of the finished picture and sound.
 */
function finishGraph(
  options: StitchOptions,
  f: FinishInput,
): { video: string; audio: string | null; caps: ReturnType<typeof captionGraph> | undefined } {
  const { inputs, graph, warnings, timeline, length } = f;
  const inputCount = (): number => inputs.filter((a) => a === '-i').length;
  let video = f.video;
  let audioOut = f.audio;
  if (f.layered) {
    const sound = soundLayers({
      voices: options.voiceovers ?? [],
      timeline,
      firstInput: inputCount(),
      length,
      clipAudio: f.clipAudio,
      soundtrack: f.soundtrack,
      duck: options.duck,
    });
    inputs.push(...sound.inputs);
    graph.push(...sound.graph);
    audioOut = sound.audio;
    const logo = overlayLayers(options.logo ?? [], video, inputCount(), f.size);
    inputs.push(...logo.inputs);
    graph.push(...logo.graph);
    video = logo.video;
  }
  const caps = options.captions
    ? captionGraph(
        options.captions,
        video,
        timeline,
        { ...f.layerCtx, length, ...f.size, inputIndex: inputCount() },
        graph,
      )
    : undefined;
  inputs.push(...(caps?.inputs ?? []));
  video = caps?.video ?? video;
  if (options.loudness && audioOut) {
    graph.push(
      `[${audioOut}]${loudnormFilter(options.loudness, options.loudness.measured)}[aloud]`,
    );
    audioOut = 'aloud';
  } else if (options.loudness) {
    warnings.push('the cut has no audio, so its loudness was not normalised');
  }
  return { video, audio: audioOut, caps };
}

/** The output's even pixel size and frame rate (the first clip's unless asked). */
function outputShape(
  options: StitchOptions,
  segs: readonly Segment[],
  warnings: string[],
): { width: number; height: number; fpsExpr: string; fps: number } {
  const width = even(options.size.width);
  const height = even(options.size.height);
  if (width !== options.size.width || height !== options.size.height) {
    warnings.push(
      `the output size ${options.size.width}x${options.size.height} became ${width}x${height}: H.264 in yuv420p needs even dimensions`,
    );
  }
  const firstRate = segs[0]!.info.video!;
  const fpsExpr =
    options.fps !== undefined
      ? num(options.fps)
      : Number.isFinite(firstRate.fps)
        ? firstRate.frameRate
        : '24';
  const fps = options.fps ?? (Number.isFinite(firstRate.fps) ? firstRate.fps : 24);
  return { width, height, fpsExpr, fps };
}

/** Refuses, naming it, an encoder or filter the output needs that this ffmpeg lacks. */
function checkEncoders(options: StitchOptions, features: PlanFeatures): void {
  if (!options.encoding && features.encoders && !features.encoders.has('libx264')) {
    throw new MediaError(`${describeTool(features)} has no libx264 encoder`, {
      code: 'tool_feature_missing',
      fix: 'install an ffmpeg built with libx264 (Debian: apt-get install ffmpeg) or set FFMPEG_PATH',
    });
  }
  if (options.encoding || options.loudness) {
    checkTools(
      features,
      {
        ...(options.encoding ? { encoding: options.encoding } : {}),
        filters: options.loudness ? LOUDNESS_FILTERS : [],
      },
      describeTool(features),
    );
  }
}

/** Re-encodes every clip to one size and rate through one filter graph, with transitions. */
function normalisePlan(
  options: StitchOptions,
  segs: readonly Segment[],
  ctx: PlanContext,
  outputFile: string,
): StitchPlan {
  const warnings: string[] = [];
  const { width, height, fpsExpr, fps } = outputShape(options, segs, warnings);
  checkEncoders(options, ctx.features);
  const joins = planJoins(options, segs, ctx.features, warnings);
  const keepAudio = options.audio === 'keep' && segs.some((s) => s.info.audio);
  const soundtrack = options.soundtrack;
  const clipAudio = keepAudio && !(soundtrack?.mode === 'replace');
  const usesXfade = joins.some((t) => t.type !== 'cut');
  const graph = segmentGraph(
    segs,
    {
      fpsExpr,
      width,
      height,
      fit: options.fit,
      ...(options.encoding ? { scaler: options.encoding.scaler } : {}),
    },
    usesXfade,
    clipAudio,
  );
  const layerCtx = { outputFile, tool: ctx.features };
  const cut = cutGraph(
    options,
    segs.map((s) => ({ id: s.clip.id, duration: s.duration })),
    joins,
    {
      ...layerCtx,
      shape: { width, height, fpsExpr },
      clipAudio,
      audioFormat: AUDIO_FORMAT,
      inputBase: segs.length + (soundtrack ? 1 : 0),
    },
    graph,
  );
  const joined = joinGraph(
    segs,
    (cut?.joins as Transition[]) ?? joins,
    clipAudio,
    graph,
    cut?.parts,
  );
  const { audio, length } = joined;
  // Cards are part of the cut: the timeline places them, and voice-overs and captions after them.
  const timeline: TimelineItem[] = cut?.timeline ?? timelineOf(segs, joins);

  // Inputs in order: the clips, the soundtrack, the cards' images, voice-overs, logos, captions.
  const inputs: string[] = [];
  for (const s of segs) inputs.push('-i', s.clip.file);
  let audioOut: string | null = clipAudio ? audio : null;
  const layered = hasLayers(options);
  if (layered) checkLayerFilters(options, ctx.features);
  if (soundtrack) {
    const fit = soundtrackFit(soundtrack.fit, length, ctx.soundtrackSec, warnings);
    inputs.push(...fit.input, '-i', soundtrack.file);
    audioOut = soundtrackGraph(
      soundtrack,
      segs.length,
      length,
      layered ? null : audioOut,
      graph,
      fit.filters,
    );
  }
  inputs.push(...(cut?.inputs ?? []));
  const finished = finishGraph(options, {
    video: joined.video,
    audio: audioOut,
    clipAudio: clipAudio ? audio : null,
    soundtrack: soundtrack ? audioOut : null,
    layered,
    timeline,
    length,
    size: { width, height },
    layerCtx,
    inputs,
    graph,
    warnings,
  });
  const { video, caps } = finished;
  audioOut = finished.audio;

  const args = [
    ...FFMPEG_HEAD,
    ...PROGRESS,
    ...inputs,
    ...['-filter_complex', graph.join(';')],
    ...['-map', `[${video}]`, ...(audioOut ? ['-map', `[${audioOut}]`] : [])],
    ...(options.encoding
      ? videoArgs(options.encoding)
      : ['-c:v', 'libx264', '-crf', String(options.crf), '-preset', options.preset]),
    ...['-pix_fmt', 'yuv420p'],
    ...(audioOut
      ? ['-c:a', 'aac', '-b:a', options.encoding?.audioBitrate ?? '192k', '-ar', String(AUDIO_RATE)]
      : ['-an']),
    ...(caps?.outputArgs ?? []),
    ...outputFlags(outputFile),
    outputFile,
  ];
  const files = [...(cut?.files ?? []), ...(caps?.files ?? [])];
  return {
    path: 'normalise',
    args,
    expectedDurationSec: length,
    fps,
    warnings,
    timeline,
    ...(options.cards?.length || options.captions ? { files, cues: caps?.cues ?? [] } : {}),
  };
}
