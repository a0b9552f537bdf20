import path from 'node:path';
import type { Shot, Stitch } from '../manifest/types.gen.js';
import { STRETCH_LIMITS } from '../manifest/voice-rules.js';

/**
 * The sound layers of a final beside the clips' audio: voice-overs placed on the cut's
 * timeline, the soundtrack fitted to the cut (looped or its tempo changed) and ducked under
 * speech by sidechain compression. Pure graph builders: `planStitch` calls them.
 */

/** A voice-over as the stitcher places it: in a clip (`index` into the clips) or in the cut. */
export interface Voiceover {
  /** Absolute path of the audio file. */
  file: string;
  /** `clip`: seconds into that clip's kept part; `cut`: seconds of the output. */
  where: { clip: number; offset: number } | { cut: number };
  volume: number;
}

/** Lowering the soundtrack under speech. */
export interface Duck {
  /** Under the voice-overs. */
  voice: boolean;
  /** Under the clips' own audio. */
  dialogue: boolean;
  /** How far down, in dB. */
  amount: number;
}

export type SoundtrackFit = 'none' | 'loop' | 'stretch_end';

/** What the sound layers need from the plan: where each clip plays. */
export interface TimelinePlace {
  kind: string;
  index?: number;
  start: number;
}

const RATE = 48000;
const FORMAT = `aformat=sample_fmts=fltp:sample_rates=${RATE}:channel_layouts=stereo`;
/** The filters the sound layers use beyond the plain stitch's, checked before ffmpeg runs. */
export const VOICE_FILTERS = ['adelay', 'asplit', 'sidechaincompress'] as const;

// The same six-decimal form as the stitch plan's numbers: no exponent, no float noise.
function sec(x: number): string {
  const fixed = x.toFixed(6);
  return fixed.replace(/0+$/, '').replace(/\.$/, '');
}

/** Where a voice-over starts in the output, in seconds; undefined when its clip is not in the cut. */
export function voiceStart(
  voice: Voiceover,
  timeline: readonly TimelinePlace[],
): number | undefined {
  if ('cut' in voice.where) return voice.where.cut;
  const { clip, offset } = voice.where;
  const item = timeline.find((t) => t.kind === 'clip' && t.index === clip);
  return item ? item.start + offset : undefined;
}

/**
 * The input flags and filters that fit a soundtrack to a cut of `length` seconds. `loop`
 * repeats the input (`-stream_loop -1`; the plan's `atrim` ends it). `stretch_end` changes the
 * tempo with `atempo` (pitch kept) so a `trackSec`-long track ends with the cut, by at most
 * {@link STRETCH_LIMITS}; beyond them, or with no known length, it says so in `warnings`.
 */
export function soundtrackFit(
  fit: SoundtrackFit | undefined,
  length: number,
  trackSec: number | undefined,
  warnings: string[],
): { input: string[]; filters: string[] } {
  if (fit === 'loop') return { input: ['-stream_loop', '-1'], filters: [] };
  if (fit !== 'stretch_end') return { input: [], filters: [] };
  if (trackSec === undefined || !(trackSec > 0) || !(length > 0)) {
    warnings.push(
      'soundtrack fit stretch_end needs the length of a local soundtrack file; this one could not be measured, so it plays at its own tempo',
    );
    return { input: [], filters: [] };
  }
  const wanted = trackSec / length;
  const tempo = Math.min(STRETCH_LIMITS.max, Math.max(STRETCH_LIMITS.min, wanted));
  if (Math.abs(tempo - wanted) > 1e-9) {
    warnings.push(
      `the soundtrack lasts ${sec(trackSec)} s and the cut ${sec(length)} s: stretch_end changes the tempo by a factor of 0.8 to 1.25 at most, so it ${wanted < tempo ? 'ends early' : 'is cut off at the end'}; use fit: loop, or a track nearer the cut's length`,
    );
  }
  if (Math.abs(tempo - 1) < 1e-6) return { input: [], filters: [] };
  return { input: [], filters: [`atempo=${sec(tempo)}`] };
}

/** Whether the soundtrack ducks, and under what. */
function duckSources(
  duck: Duck | undefined,
  hasVoice: boolean,
  clipAudio: string | null,
): { voice: boolean; dialogue: boolean } {
  return {
    voice: hasVoice && (duck?.voice ?? true),
    dialogue: clipAudio !== null && (duck?.dialogue ?? false),
  };
}

export interface SoundLayersInput {
  voices: readonly Voiceover[];
  timeline: readonly TimelinePlace[];
  /** ffmpeg's input index of the first voice-over file. */
  firstInput: number;
  /** Seconds of the output. */
  length: number;
  /** The label of the clips' joined audio, or null when it is not heard. */
  clipAudio: string | null;
  /** The label of the soundtrack as the plan made it (volume, fit, fade), if any. */
  soundtrack: string | null;
  duck: Duck | undefined;
}

/**
 * Adds the voice-overs (each delayed to its place, padded to the cut), ducks the soundtrack
 * under them (and under the clips' audio when asked) and mixes everything at its own level.
 * Returns the ffmpeg inputs to append, the filters to add and the label of the mixed audio.
 */
export function soundLayers(input: SoundLayersInput): {
  inputs: string[];
  graph: string[];
  audio: string | null;
} {
  const { voices, length } = input;
  const inputs: string[] = [];
  const graph: string[] = [];
  voices.forEach((v, i) => {
    const start = voiceStart(v, input.timeline) ?? 0;
    const ms = Math.max(0, Math.round(start * 1000));
    inputs.push('-i', v.file);
    graph.push(
      `[${input.firstInput + i}:a:0]asetpts=PTS-STARTPTS,aresample=${RATE},${FORMAT},volume=${sec(v.volume)},adelay=${ms}|${ms},apad,atrim=end=${sec(length)}[vo${i}]`,
    );
  });
  let voice: string | null = null;
  if (voices.length === 1) voice = 'vo0';
  if (voices.length > 1) {
    const all = voices.map((_, i) => `[vo${i}]`).join('');
    // amix divides every input by their number; volume gives each its own level back.
    graph.push(
      `${all}amix=inputs=${voices.length}:duration=first:dropout_transition=0,volume=${voices.length}[vo]`,
    );
    voice = 'vo';
  }
  let clip = input.clipAudio;
  let music = input.soundtrack;
  const sources = duckSources(input.duck, voice !== null, clip);
  if (music && (sources.voice || sources.dialogue)) {
    const sidechain: string[] = [];
    if (sources.voice && voice) {
      graph.push(`[${voice}]asplit=2[vomix][vosc]`);
      voice = 'vomix';
      sidechain.push('vosc');
    }
    if (sources.dialogue && clip) {
      graph.push(`[${clip}]asplit=2[clipmix][clipsc]`);
      clip = 'clipmix';
      sidechain.push('clipsc');
    }
    let key = sidechain[0]!;
    if (sidechain.length > 1) {
      graph.push(`[vosc][clipsc]amix=inputs=2:duration=first:dropout_transition=0[sc]`);
      key = 'sc';
    }
    // A low threshold and a high ratio silence the compressed copy while anyone speaks; `mix`
    // keeps 10^(-amount/20) of the dry music, so the music drops by `amount` dB, no more.
    const keep = 10 ** (-(input.duck?.amount ?? 12) / 20);
    // One sample format and layout on both inputs: older ffmpeg builds cannot choose one for
    // sidechaincompress on their own ("could not choose their formats").
    const same = 'aformat=sample_fmts=dbl:sample_rates=48000:channel_layouts=stereo';
    graph.push(
      `[${music}]${same}[duckin]`,
      `[${key}]${same}[duckkey]`,
      `[duckin][duckkey]sidechaincompress=threshold=0.001:ratio=20:attack=5:release=250:mix=${sec(1 - keep)}[ducked]`,
    );
    music = 'ducked';
  }
  const parts = [clip, music, voice].filter((p): p is string => p !== null);
  if (parts.length <= 1) return { inputs, graph, audio: parts[0] ?? null };
  graph.push(
    `${parts.map((p) => `[${p}]`).join('')}amix=inputs=${parts.length}:duration=first:dropout_transition=0,volume=${parts.length}[aout]`,
  );
  return { inputs, graph, audio: 'aout' };
}

/** Whether a layer item with `variants` applies to `variant` (no list, or no variants: all). */
export function appliesTo(
  variants: readonly string[] | undefined,
  variant: string | null,
): boolean {
  return !variants || variant === null || variants.includes(variant);
}

type VoiceSpec = NonNullable<Shot['voiceover']>;

/**
 * The voice-overs, soundtrack fit and ducking of one variant's final, resolved from the
 * manifest: files absolute (relative to `manifestDir`), each shot's voice-over in its clip
 * (`shots[i]` is clip `i`), the cut-wide one in the cut. Fields the manifest leaves out stay out.
 */
export function voiceOptions(
  spec: Stitch,
  shots: readonly { voiceover?: VoiceSpec }[],
  variant: string | null,
  manifestDir: string,
): { voiceovers?: Voiceover[]; duck?: Duck; fit?: SoundtrackFit } {
  const voices: Voiceover[] = [];
  shots.forEach((shot, clip) => {
    const v = typeof shot.voiceover === 'string' ? { file: shot.voiceover } : shot.voiceover;
    if (!v || !appliesTo(v.variants, variant)) return;
    voices.push({
      file: path.resolve(manifestDir, v.file),
      where: { clip, offset: v.offset ?? 0 },
      volume: v.volume ?? 1,
    });
  });
  const cut = spec.voiceover;
  if (cut && appliesTo(cut.variants, variant)) {
    voices.push({
      file: path.resolve(manifestDir, cut.file),
      where: { cut: cut.offset ?? 0 },
      volume: cut.volume ?? 1,
    });
  }
  const duck = spec.soundtrack?.duck;
  const fit = spec.soundtrack?.fit;
  return {
    ...(voices.length > 0 ? { voiceovers: voices } : {}),
    ...(duck
      ? {
          duck: {
            voice: duck.voice ?? true,
            dialogue: duck.dialogue ?? false,
            amount: duck.amount ?? 12,
          },
        }
      : {}),
    ...(fit ? { fit } : {}),
  };
}
