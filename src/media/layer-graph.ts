/**
 * The parts of the stitch filtergraph that captions and cards add: card segments joined among
 * the clips, burned captions over the joined picture, and the soft subtitle track. Pure.
 */
import { MediaError } from '../errors.js';
import {
  captionLook,
  drawtextLines,
  hasCjk,
  placeCues,
  wrapText,
  writeSrt,
  type CaptionOptions,
  type Cue,
} from './captions.js';
import {
  cardVideoChain,
  colorSource,
  cutParts,
  imageFit,
  partTimes,
  type CardOptions,
} from './cards.js';

/** The labels and length of each part the join puts together, in playing order. */
export type LayerParts = { v: string; a: string; duration: number }[];

/** The layer fields of the stitch options (a structural view, so this file needs no import of them). */
export interface Layered {
  captions?: CaptionOptions;
  cards?: (CardOptions & { font?: string })[];
}

/** Why layers rule out copying streams, or null without any. */
export function layersBlocker(options: Layered): string | null {
  if (options.cards && options.cards.length > 0) return 'a card is added';
  if (options.captions) return 'captions are added';
  return null;
}

interface Shape {
  width: number;
  height: number;
  fpsExpr: string;
}

interface Tool {
  filters: ReadonlySet<string>;
  encoders?: ReadonlySet<string>;
  version?: string;
}

function need(tool: Tool, what: string, kind: 'filter' | 'encoder', why: string): void {
  const set = kind === 'filter' ? tool.filters : tool.encoders;
  if (!set || set.has(what)) return;
  throw new MediaError(
    `this ffmpeg${tool.version ? ` ${tool.version}` : ''} has no ${what} ${kind}, which ${why} needs`,
    {
      code: 'tool_feature_missing',
      fix: `install an ffmpeg with the ${what} ${kind}${what === 'drawtext' ? ' (built with libfreetype)' : ''} (Debian: apt-get install ffmpeg) or set FFMPEG_PATH to one`,
    },
  );
}

/** Timeline items as stitch-plan's `TimelineItem`. */
export interface LayerTimelineItem {
  kind: 'clip' | 'card';
  index: number;
  id: string;
  start: number;
  end: number;
}

export interface CutGraph {
  parts: LayerParts;
  joins: { type: string; duration: number }[];
  /** ffmpeg input arguments for the cards' images, in input order from `inputBase`. */
  inputs: string[];
  timeline: LayerTimelineItem[];
  files: { path: string; content: string }[];
}

/** The share of the frame's width drawn text may take: longer lines are wrapped. */
const TEXT_WIDTH = 0.9;

/**
 * Puts the cards among the clips: each card becomes a segment (`[vkN]`, `[akN]` when the clips'
 * audio is kept, silent), and the joins next to a card become cuts. Image cards read their
 * image as inputs from `inputBase` on. Undefined without cards.
 */
export function cutGraph(
  options: Layered,
  clips: readonly { id: string; duration: number }[],
  joins: readonly { type: string; duration: number }[],
  ctx: {
    shape: Shape;
    clipAudio: boolean;
    inputBase: number;
    outputFile: string;
    tool: Tool;
    audioFormat: string;
  },
  graph: string[],
): CutGraph | undefined {
  const cards = options.cards ?? [];
  if (cards.length === 0) return undefined;
  need(ctx.tool, 'drawtext', 'filter', 'a card');
  const order = cutParts(
    clips.map((c) => c.id),
    cards,
  );
  const inputs: string[] = [];
  let images = 0;
  const files: CutGraph['files'] = [];
  const { shape } = ctx;
  const parts: LayerParts = order.map((part) => {
    if (part.kind === 'clip') {
      const clip = clips[part.index]!;
      return { v: `v${part.index}`, a: `a${part.index}`, duration: clip.duration };
    }
    const k = part.index;
    const card = cards[k]!;
    const size = Math.max(8, Math.round(shape.height * 0.08));
    const drawn = drawtextLines(
      {
        fontFile: card.font ?? options.captions?.fontFile ?? '',
        fontSize: size,
        color: card.color,
        outline: 0,
        position: 'middle',
        margin: 0,
      },
      wrapText(card.text, size, shape.width * TEXT_WIDTH),
      (line) => `${ctx.outputFile}.card-${k}-${line}.txt`,
    );
    files.push(...drawn.files);
    const chain = cardVideoChain(card, drawn.filters.join(','));
    if ('image' in card.background) {
      const input = ctx.inputBase + images++;
      inputs.push(
        '-loop',
        '1',
        '-framerate',
        shape.fpsExpr,
        '-t',
        String(card.duration),
        '-i',
        card.background.image,
      );
      graph.push(
        `[${input}:v:0]${[...imageFit(card.duration, shape), ...chain].join(',')}[vk${k}]`,
      );
    } else {
      graph.push(
        `${[colorSource(card.background.color, card.duration, shape), ...chain].join(',')}[vk${k}]`,
      );
    }
    if (ctx.clipAudio) {
      graph.push(
        `anullsrc=channel_layout=stereo:sample_rate=48000,${ctx.audioFormat},atrim=end=${Number(card.duration.toFixed(6))},asetpts=PTS-STARTPTS[ak${k}]`,
      );
    }
    return { v: `vk${k}`, a: `ak${k}`, duration: card.duration };
  });
  const partJoins = order.slice(0, -1).map((p, i) => {
    const q = order[i + 1]!;
    return p.kind === 'clip' && q.kind === 'clip' && q.index === p.index + 1
      ? joins[p.index]!
      : { type: 'cut', duration: 0 };
  });
  const times = partTimes(
    order,
    parts.map((p) => p.duration),
    partJoins.map((j) => (j.type === 'cut' ? 0 : j.duration)),
  );
  const timeline = times.map(({ part, start, end }): LayerTimelineItem =>
    part.kind === 'clip'
      ? { kind: 'clip', index: part.index, id: clips[part.index]!.id, start, end }
      : { kind: 'card', index: part.index, id: `card-${part.index}`, start, end },
  );
  return { parts, joins: partJoins, inputs, timeline, files };
}

export interface CaptionGraph {
  /** The video label after burning, or the one given. */
  video: string;
  inputs: string[];
  /** Output arguments of the subtitle track (map, codec, language). */
  outputArgs: string[];
  files: { path: string; content: string }[];
  cues: Cue[];
}

/**
 * Places the captions on the timeline, burns them over `video` when asked (one drawtext a cue,
 * each from its own text file), and adds the cues as a soft subtitle track read from an SRT
 * file at input `inputIndex`.
 */
export function captionGraph(
  captions: CaptionOptions,
  video: string,
  timeline: readonly LayerTimelineItem[],
  ctx: {
    length: number;
    width: number;
    height: number;
    inputIndex: number;
    outputFile: string;
    tool: Tool;
  },
  graph: string[],
): CaptionGraph {
  const clips = timeline.filter((t) => t.kind === 'clip');
  const cues = placeCues(clips, captions.clips, captions.fileCues ?? [], ctx.length);
  const files: CaptionGraph['files'] = [];
  let out = video;
  if (captions.burn && cues.length > 0) {
    need(ctx.tool, 'drawtext', 'filter', 'burning captions');
    const look = captionLook(captions.style, ctx.height);
    const filters = cues.flatMap((cue, n) => {
      const drawn = drawtextLines(
        { ...look, fontFile: captions.fontFile ?? '', enable: { start: cue.start, end: cue.end } },
        wrapText(cue.text, look.fontSize, ctx.width * TEXT_WIDTH),
        (line) => `${ctx.outputFile}.caption-${n}-${line}.txt`,
      );
      files.push(...drawn.files);
      return drawn.filters;
    });
    graph.push(`[${video}]${filters.join(',')}[vcap]`);
    out = 'vcap';
  }
  if (cues.length === 0) return { video: out, inputs: [], outputArgs: [], files, cues };
  need(ctx.tool, 'mov_text', 'encoder', 'the subtitle track');
  const srt = `${ctx.outputFile}.captions.srt`;
  files.push({ path: srt, content: writeSrt(cues) });
  return {
    video: out,
    inputs: ['-f', 'srt', '-i', srt],
    outputArgs: [
      ...['-map', `${ctx.inputIndex}:s:0`, '-c:s', 'mov_text'],
      ...(captions.language ? ['-metadata:s:s:0', `language=${captions.language}`] : []),
    ],
    files,
    cues,
  };
}

/** Whether any text drawn by these layers needs a CJK font. */
export function layersNeedCjk(options: Layered, cues: readonly Cue[] = []): boolean {
  const texts = [
    ...(options.cards ?? []).map((c) => c.text),
    ...Object.values(options.captions?.clips ?? {}).flatMap((list) => list.map((c) => c.text)),
    ...cues.map((c) => c.text),
  ];
  return texts.some(hasCjk);
}
