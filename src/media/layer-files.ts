/**
 * The files around a layered stitch: what is read before planning (a subtitle file, the font),
 * what the plan asks to be written for ffmpeg and removed after, and the caption sidecars
 * written beside the final.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT_CODES, MediaError } from '../errors.js';
import { writeFileAtomic } from '../safe-fs.js';
import { parseSubtitles, writeSrt, writeVtt, type Cue } from './captions.js';
import { findFont } from './fonts.js';
import { layersNeedCjk, type Layered } from './layer-graph.js';

/**
 * The options with what planning needs read from disk: the cut-wide subtitle file's cues and
 * the font file captions and cards are drawn with (found once, for text needing CJK or not).
 */
export async function prepareLayers<T extends Layered>(options: T): Promise<T> {
  const captions = options.captions;
  const cards = options.cards ?? [];
  if (!captions && cards.length === 0) return options;
  let fileCues: Cue[] | undefined;
  if (captions?.file) {
    const text = await readFile(captions.file, 'utf8').catch((cause: unknown) => {
      throw new MediaError(`cannot read the subtitle file ${captions.file}`, {
        code: 'captions_invalid',
        exitCode: EXIT_CODES.badInput,
        cause,
        fix: 'check stitch.captions.file: a path relative to the manifest',
      });
    });
    fileCues = parseSubtitles(text, captions.file);
  }
  const drawn =
    cards.length > 0 ||
    (captions?.burn === true &&
      (Object.keys(captions.clips).length > 0 || (fileCues?.length ?? 0) > 0));
  const fontFile = drawn
    ? findFont(captions?.style.font, layersNeedCjk(options, fileCues ?? []))
    : undefined;
  return {
    ...options,
    ...(captions
      ? {
          captions: {
            ...captions,
            ...(fileCues ? { fileCues } : {}),
            ...(fontFile ? { fontFile } : {}),
          },
        }
      : {}),
    ...(cards.length > 0 ? { cards: cards.map((c) => ({ ...c, font: fontFile })) } : {}),
  };
}

/** Writes the plan's files (exclusively: a name already there is an error), for ffmpeg to read. */
export async function writePlanFiles(
  files: readonly { path: string; content: string }[] | undefined,
): Promise<void> {
  for (const f of files ?? []) await writeFile(f.path, f.content, { encoding: 'utf8', flag: 'wx' });
}

export async function removePlanFiles(
  files: readonly { path: string; content: string }[] | undefined,
): Promise<void> {
  await Promise.all((files ?? []).map((f) => rm(f.path, { force: true })));
}

/** `final.vertical.mp4` -> `final.vertical.srt` and `.vtt`, beside it. */
export function sidecarNames(output: string): { srt: string; vtt: string } {
  const base = output.slice(0, output.length - path.extname(output).length);
  return { srt: `${base}.srt`, vtt: `${base}.vtt` };
}

/** Writes the final's caption sidecars (.srt and .vtt), each replaced whole. */
export async function writeSidecars(output: string, cues: readonly Cue[]): Promise<string[]> {
  const { srt, vtt } = sidecarNames(output);
  const dir = path.dirname(output);
  await writeFileAtomic(dir, path.basename(srt), writeSrt(cues));
  await writeFileAtomic(dir, path.basename(vtt), writeVtt(cues));
  return [srt, vtt];
}
