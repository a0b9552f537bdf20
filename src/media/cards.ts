/**
 * Title, chapter and end cards: generated segments of the cut (a colour or a looped image, its
 * text, fades), where they go among the clips, and where everything then plays. Pure.
 */
import { EXIT_CODES, MediaError } from '../errors.js';

export type CardPlace = 'start' | 'end' | { before: string } | { after: string };

export interface CardOptions {
  text: string;
  /** Seconds. */
  duration: number;
  at: CardPlace;
  background: { color: string } | { image: string };
  color: string;
  /** Seconds of fade from and to black at each end; 0 for none. */
  fade: number;
}

/** One part of the cut in playing order: a clip (index into the clips) or a card (into the cards). */
export type CutPart = { kind: 'clip'; index: number } | { kind: 'card'; index: number };

/**
 * The playing order of clips and cards: start cards, then each clip with the cards placed
 * before and after it, then end cards; cards sharing a place keep their written order.
 * Throws when a card names a shot that is not in the cut.
 */
export function cutParts(ids: readonly string[], cards: readonly CardOptions[]): CutPart[] {
  const at = (want: (c: CardOptions) => boolean): CutPart[] =>
    cards.flatMap((c, index) => (want(c) ? [{ kind: 'card' as const, index }] : []));
  cards.forEach((c) => {
    const id = typeof c.at === 'string' ? undefined : 'before' in c.at ? c.at.before : c.at.after;
    if (id !== undefined && !ids.includes(id)) {
      throw new MediaError(`a card is placed next to shot ${id}, which is not in this cut`, {
        code: 'stitch_invalid',
        exitCode: EXIT_CODES.badInput,
        fix: `place it before or after one of ${ids.join(', ')}, or at start or end`,
      });
    }
  });
  return [
    ...at((c) => c.at === 'start'),
    ...ids.flatMap((id, index) => [
      ...at((c) => typeof c.at === 'object' && 'before' in c.at && c.at.before === id),
      { kind: 'clip' as const, index },
      ...at((c) => typeof c.at === 'object' && 'after' in c.at && c.at.after === id),
    ]),
    ...at((c) => c.at === 'end'),
  ];
}

/** Where one part plays, in output seconds. */
export interface PartTime {
  part: CutPart;
  start: number;
  end: number;
}

/**
 * Where each part plays given its length and the overlap of the join before it (a transition's
 * length; 0 for a cut).
 */
export function partTimes(
  parts: readonly CutPart[],
  lengths: readonly number[],
  overlaps: readonly number[],
): PartTime[] {
  let start = 0;
  return parts.map((part, i) => {
    if (i > 0) start -= overlaps[i - 1] ?? 0;
    const item = { part, start, end: start + lengths[i]! };
    start = item.end;
    return item;
  });
}

/**
 * The filter chain of a card's picture from `source` (a lavfi `color` source, or an image
 * input already fitted to the frame): the text, the fades, and the cut's common format.
 */
export function cardVideoChain(card: CardOptions, drawtext: string): string[] {
  const fade = Math.min(card.fade, card.duration / 2);
  return [
    drawtext,
    ...(fade > 0
      ? [
          `fade=t=in:st=0:d=${Number(fade.toFixed(6))}`,
          `fade=t=out:st=${Number((card.duration - fade).toFixed(6))}:d=${Number(fade.toFixed(6))}`,
        ]
      : []),
    'setsar=1',
    'format=yuv420p',
    'settb=AVTB',
  ];
}

/** The start of a colour card's chain: a lavfi colour source as long as the card. */
export function colorSource(
  color: string,
  duration: number,
  shape: { width: number; height: number; fpsExpr: string },
): string {
  return `color=c=0x${color.replace(/^#/, '')}:s=${shape.width}x${shape.height}:r=${shape.fpsExpr}:d=${Number(duration.toFixed(6))}`;
}

/** The chain that fits a looped still image to the frame, as long as the card. */
export function imageFit(
  duration: number,
  shape: { width: number; height: number; fpsExpr: string },
): string[] {
  const { width, height } = shape;
  return [
    `fps=${shape.fpsExpr}`,
    `trim=end=${Number(duration.toFixed(6))}`,
    'setpts=PTS-STARTPTS',
    `scale=${width}:${height}:force_original_aspect_ratio=decrease`,
    `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=black`,
  ];
}
