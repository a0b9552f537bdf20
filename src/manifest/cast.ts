/**
 * The cast: members defined once and mentioned in prompts as `@name`. Expansion is pure: the
 * same prompt, images and cast always give the same body, which is what `plan` shows.
 */
import { LIMITS } from '../models.js';
import type { Collector } from './collector.js';
import { frameDependencies } from './frames.js';
import type { Origin, ResolvedShot } from './request.js';
import { closest } from './suggest.js';
import type { CastMember } from './types.gen.js';

export type Cast = Record<string, CastMember>;

/** `@name`: the name runs to the first character that is not a letter, digit or `_`. */
const MENTION = /@([A-Za-z_][A-Za-z0-9_]*)/g;
/** The API's own references; a cast name may not look like one. */
const API_REFERENCE = /^(image|video|audio)_file_\d+$/;

/** Whether a name is one of the API's `image_file_N`, `video_file_N`, `audio_file_N`. */
export function isApiReference(name: string): boolean {
  return API_REFERENCE.test(name);
}

/** An `@word` that names no member but is close to one: most likely a typo. */
export interface CastTypo {
  word: string;
  /** Where the `@` stands in the prompt (UTF-16 index). */
  index: number;
  guess: string;
}

/** Where one image of an expanded shot came from. */
export type ImageSource = { own: number } | { member: string; image: number };

export interface CastExpansion {
  /** The prompt with each mention rewritten to `<description> @image_file_N ...`. */
  prompt: string;
  /** The shot's own images, then each mentioned member's, each image once, order kept. */
  images: string[];
  /** Where each of `images` came from. */
  sources: ImageSource[];
  /** The members the prompt mentions, in the order of their first mention. */
  members: string[];
  typos: CastTypo[];
}

/**
 * Expands the cast members a prompt mentions. A member's images go after the shot's own and
 * the members before it; an image already in the list (same reference as written) keeps its
 * first position. Each mention becomes the member's description (when it has one), a space,
 * and the `@image_file_N` of each of its images, separated by spaces: with `mimi` at
 * positions 2 and 3, `@mimi` becomes `橘色短毛猫,绿眼睛 @image_file_2 @image_file_3`.
 * `@image_file_N`-style words are never mentions; other `@words` are left as written, and
 * those close to a member's name are returned as typos. With `images: false` (a shot that
 * starts on a frame) a mention becomes the member's description, else its name, and no image
 * is added.
 */
export function expandCast(
  prompt: string,
  ownImages: readonly string[] | undefined,
  cast: Cast | undefined,
  options: { images?: boolean } = {},
): CastExpansion {
  const images = [...(ownImages ?? [])];
  const sources: ImageSource[] = images.map((_, i) => ({ own: i }));
  const members: string[] = [];
  const typos: CastTypo[] = [];
  const names = Object.keys(cast ?? {});
  const references = new Map<string, string>();
  const rewritten = prompt.replace(MENTION, (mention: string, name: string, index: number) => {
    const member = cast !== undefined && Object.hasOwn(cast, name) ? cast[name] : undefined;
    if (member === undefined || isApiReference(name)) {
      const guess = isApiReference(name) ? undefined : closest(name, names);
      if (guess !== undefined) typos.push({ word: mention, index, guess });
      return mention;
    }
    let text = references.get(name);
    if (text === undefined && options.images === false) {
      members.push(name);
      text = member.description ?? name;
      references.set(name, text);
    }
    if (text === undefined) {
      members.push(name);
      const refs = (member.images ?? []).map((image, i) => {
        let at = images.indexOf(image);
        if (at < 0) {
          at = images.push(image) - 1;
          sources.push({ member: name, image: i });
        }
        return `@image_file_${at + 1}`;
      });
      text = [member.description, ...refs].filter((part) => part !== undefined).join(' ');
      references.set(name, text);
    }
    return text;
  });
  return { prompt: rewritten, images, sources, members, typos };
}

/** Rules of the cast on its own: names the API would read as its references, members without images. */
export function checkCastMembers(cast: Cast | undefined, out: Collector): void {
  for (const [name, member] of Object.entries(cast ?? {})) {
    if (isApiReference(name)) {
      out.at(
        'error',
        ['cast', name],
        `cast name "${name}" is how the API refers to a shot's own media (@${name})`,
        `rename it, e.g. ${name.replace(/_file_\d+$/, '')}_ref`,
        { key: true },
      );
    }
    if (Array.isArray(member?.images) && member.images.length === 0) {
      out.at(
        'error',
        ['cast', name, 'images'],
        `cast member "${name}" has no images`,
        'give it at least one image (a URL or a file next to the manifest)',
      );
    }
  }
}

/**
 * Rules of one resolved shot's cast: typos of member names, the mode, the image limit. Says
 * whether it found an error (the body is then not worth checking against the API's rules).
 */
export function checkShotCast(
  cast: Cast | undefined,
  rawPrompt: string,
  shot: Pick<
    ResolvedShot,
    'id' | 'cast' | 'castImages' | 'frameAs' | 'images' | 'mode' | 'origins' | 'path'
  >,
  out: Collector,
): boolean {
  if (cast === undefined) return false;
  let found = false;
  const error = (path: Origin, message: string, fix: string, index?: number) => {
    found = true;
    out.at('error', path, message, fix, index === undefined ? {} : { index });
  };
  const promptPath = shot.origins.prompt ?? shot.path;
  for (const typo of expandCast(rawPrompt, [], cast).typos) {
    error(
      promptPath,
      `shot ${shot.id} mentions ${typo.word}, which is not in the cast`,
      `did you mean "@${typo.guess}"? (cast: ${Object.keys(cast).join(', ')})`,
      typo.index,
    );
  }
  const members = shot.cast ?? [];
  // Named in words only, the cast adds no image and asks for no mode.
  if (members.length === 0 || shot.castImages === false) return found;
  const list = members.map((m) => `@${m}`).join(', ');
  if (shot.mode !== 'multi_ref') {
    error(
      shot.origins.mode ?? promptPath,
      `shot ${shot.id} mentions ${list} from the cast, which needs mode multi_ref, not ${shot.mode}`,
      frameDependencies(shot.images).length > 0 && shot.frameAs === undefined
        ? 'remove the mode (a cast mention sets multi_ref) or the mention, or write as: first_frame on the frame entry to start on it and name the cast in words only'
        : 'remove the mode (a cast mention sets multi_ref), or the mention',
    );
  }
  const count = shot.images?.length ?? 0;
  if (count > LIMITS.multiRefImages) {
    error(
      promptPath,
      `shot ${shot.id} has ${count} images with its cast (${list}); multi_ref takes at most ${LIMITS.multiRefImages}`,
      `remove ${count - LIMITS.multiRefImages}: mention fewer members, or give them or the shot fewer images`,
    );
  }
  return found;
}
