import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { MediaError } from '../errors.js';
import { tempName, withAtomicFile } from '../safe-fs.js';
import { detectFeatures, locateTool, type FfmpegFeatures } from './locate.js';
import { probe, type ProbeCache } from './probe.js';
import { runFfmpeg } from './run-ffmpeg.js';
import { FFMPEG_HEAD, findFont } from './ffmpeg-common.js';

export interface MediaDeps {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** What the ffmpeg can do; detected when absent (tests pass a reduced set). */
  features?: FfmpegFeatures;
  /** The probes of the job (a clip probed when its download was checked is not probed again). */
  cache?: ProbeCache;
}

export interface ThumbnailOptions extends MediaDeps {
  /** Seconds into the clip; the middle frame by default. */
  atSec?: number;
  /** Pixel width of the image; the height keeps the aspect. Default 320. */
  width?: number;
}

async function ffmpegFeatures(deps: MediaDeps): Promise<FfmpegFeatures> {
  const env = deps.env ?? process.env;
  return deps.features ?? detectFeatures(locateTool('ffmpeg', env), env);
}

/** Writes `out` through ffmpeg under a temporary name; an empty result is an error (also for frame.ts). */
export function writeAtomically(
  out: string,
  produce: (tmp: string) => Promise<void>,
  what: string,
): Promise<void> {
  return withAtomicFile(out, async (tmp) => {
    await produce(tmp);
    const info = await stat(tmp).catch(() => undefined);
    if (!info?.size) {
      throw new MediaError(`ffmpeg wrote no image while ${what}`, {
        code: 'ffmpeg_no_output',
        fix: 'the clip may be shorter than the time asked for',
      });
    }
  });
}

/** Output options for one JPEG picture (thumbnails and the contact sheet). */
const ONE_JPEG = ['-q:v', '4', '-f', 'image2', '-update', '1'];

/** Where the thumbnail of a probed clip is taken and how wide it is. */
async function framing(
  file: string,
  opts: ThumbnailOptions,
): Promise<{ at: string; output: string[] }> {
  const info = await probe(file, opts);
  const length = info.video?.durationSec ?? info.durationSec;
  const at = Math.max(0, Math.min(opts.atSec ?? length / 2, length - 0.05));
  const width = Math.max(2, Math.floor((opts.width ?? 320) / 2) * 2);
  return {
    at: at.toFixed(3),
    output: ['-frames:v', '1', '-vf', `scale=${width}:-2`, ...ONE_JPEG],
  };
}

/**
 * Saves one frame of a clip as a JPEG (the middle frame unless `atSec` says otherwise),
 * scaled to `width` pixels wide. Written under a temporary name, then renamed.
 */
export async function thumbnail(
  file: string,
  outJpg: string,
  opts: ThumbnailOptions = {},
): Promise<string> {
  const features = await ffmpegFeatures(opts);
  const { at, output } = await framing(file, opts);
  await writeAtomically(
    outJpg,
    (tmp) =>
      runFfmpeg(
        features.path,
        [...FFMPEG_HEAD, '-ss', at, '-i', file, '-map', '0:v:0', ...output, tmp],
        {
          what: `taking a thumbnail of ${path.basename(file)}`,
          signal: opts.signal,
        },
      ),
    `taking a thumbnail of ${file}`,
  );
  return outJpg;
}

export interface ThumbnailJob {
  clip: string;
  out: string;
}

/** Clips per ffmpeg when taking many thumbnails: each start costs more than a frame. */
const THUMBNAIL_BATCH = 8;

/** One ffmpeg for several thumbnails: every file is written, or none is. */
async function thumbnailBatch(
  features: FfmpegFeatures,
  jobs: readonly ThumbnailJob[],
  opts: ThumbnailOptions,
): Promise<void> {
  // One probe after another: they are cache hits after a download, and each running one
  // holds a listener on the caller's signal.
  const framings: Awaited<ReturnType<typeof framing>>[] = [];
  for (const job of jobs) framings.push(await framing(job.clip, opts));
  const temps = jobs.map((job) => tempName(job.out, '.tmp.jpg'));
  try {
    await runFfmpeg(
      features.path,
      [
        ...FFMPEG_HEAD,
        ...jobs.flatMap((job, i) => ['-ss', framings[i]!.at, '-i', job.clip]),
        ...temps.flatMap((tmp, i) => ['-map', `${i}:v:0`, ...framings[i]!.output, tmp]),
      ],
      { what: `taking ${jobs.length} thumbnails`, signal: opts.signal },
    );
    for (const tmp of temps) {
      if (!(await stat(tmp).catch(() => undefined))?.size) {
        throw new MediaError('ffmpeg wrote no image', { code: 'ffmpeg_no_output' });
      }
    }
    await Promise.all(jobs.map((job, i) => rename(temps[i]!, job.out)));
  } finally {
    await Promise.all(temps.map((tmp) => rm(tmp, { force: true })));
  }
}

/**
 * Takes the thumbnail of each job's clip, as {@link thumbnail} does, with one ffmpeg per
 * batch of clips (a distro ffmpeg spends longer starting than taking a frame). A batch that
 * fails is taken again one clip at a time, so one bad clip costs only its own thumbnail.
 * Resolves to each job's error, or undefined when its thumbnail was written.
 */
export async function thumbnails(
  jobs: readonly ThumbnailJob[],
  opts: ThumbnailOptions = {},
): Promise<(Error | undefined)[]> {
  const results: (Error | undefined)[] = [];
  if (jobs.length === 0) return results;
  const features = await ffmpegFeatures(opts);
  for (let i = 0; i < jobs.length; i += THUMBNAIL_BATCH) {
    const batch = jobs.slice(i, i + THUMBNAIL_BATCH);
    if (batch.length > 1) {
      const failed = await thumbnailBatch(features, batch, opts).then(
        () => false,
        () => true,
      );
      if (!failed) {
        results.push(...batch.map(() => undefined));
        continue;
      }
    }
    if (opts.signal?.aborted) {
      const stopped = new MediaError('taking thumbnails was cancelled', { code: 'cancelled' });
      results.push(...jobs.slice(i).map(() => stopped));
      break;
    }
    for (const job of batch) {
      results.push(
        await thumbnail(job.clip, job.out, { ...opts, features }).then(
          () => undefined,
          (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
        ),
      );
    }
  }
  return results;
}

export interface ContactSheetItem {
  image: string;
  label: string;
}

export interface ContactSheetOptions extends MediaDeps {
  /** Images per row; default 4 (fewer when there are fewer images). */
  columns?: number;
  /** Each cell's picture area; default 320x180. Images are fitted inside and letterboxed. */
  cellWidth?: number;
  cellHeight?: number;
  /** A TrueType font for the labels; a common system font is looked for when absent. */
  fontFile?: string;
}

export interface ContactSheetResult {
  file: string;
  labelled: boolean;
  warnings: string[];
}

/**
 * Escapes a value for a filter option inside a `-filter_complex` graph. Two levels parse it:
 * the filter's options (quote it, a quote becomes `'\''`) and then the graph, where
 * backslash, quote, brackets, comma and semicolon need a backslash.
 */
export function escapeFilterValue(value: string): string {
  const quoted = `'${value.replace(/'/g, `'\\''`)}'`;
  return quoted.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}

/** Builds the contact sheet's filtergraph. Pure; exported for tests. */
export function contactSheetGraph(
  count: number,
  labels: readonly string[] | null,
  o: { columns: number; cellWidth: number; cellHeight: number; fontFile?: string },
): string {
  const columns = Math.max(1, Math.min(o.columns, count));
  const rows = Math.ceil(count / columns);
  const strip = labels ? Math.max(16, Math.round(o.cellHeight / 7.5)) : 0;
  const cellH = o.cellHeight + strip;
  const graph: string[] = [];
  for (let i = 0; i < rows * columns; i++) {
    if (i >= count) {
      graph.push(`color=c=0x202020:s=${o.cellWidth}x${cellH}:r=1:d=1,format=yuv420p[c${i}]`);
      continue;
    }
    const chain = [
      `scale=${o.cellWidth}:${o.cellHeight}:force_original_aspect_ratio=decrease`,
      `pad=${o.cellWidth}:${cellH}:(ow-iw)/2:(${o.cellHeight}-ih)/2:color=0x202020`,
      'setsar=1',
    ];
    const label = labels?.[i];
    if (label !== undefined) {
      const font = o.fontFile ? `fontfile=${escapeFilterValue(o.fontFile)}:` : '';
      chain.push(
        `drawtext=${font}expansion=none:text=${escapeFilterValue(label)}:fontcolor=white:fontsize=${Math.round(strip * 0.7)}:x=(w-text_w)/2:y=${o.cellHeight}+(${strip}-text_h)/2`,
      );
    }
    chain.push('format=yuv420p');
    graph.push(`[${i}:v]${chain.join(',')}[c${i}]`);
  }
  const rowNames: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells = Array.from({ length: columns }, (_, k) => `[c${r * columns + k}]`).join('');
    if (columns === 1) {
      rowNames.push(`c${r}`);
    } else {
      graph.push(`${cells}hstack=inputs=${columns}[r${r}]`);
      rowNames.push(`r${r}`);
    }
  }
  if (rows === 1) {
    graph.push(`[${rowNames[0]}]null[sheet]`);
  } else {
    graph.push(`${rowNames.map((n) => `[${n}]`).join('')}vstack=inputs=${rows}[sheet]`);
  }
  return graph.join(';');
}

/**
 * Lays images out in a grid, each labelled with its text (a shot id), as one JPEG. Labels
 * need ffmpeg's drawtext filter and a font; without them the sheet has no labels and a
 * warning says why.
 */
export async function contactSheet(
  items: readonly ContactSheetItem[],
  outJpg: string,
  opts: ContactSheetOptions = {},
): Promise<ContactSheetResult> {
  if (items.length === 0) {
    throw new MediaError('a contact sheet needs at least one image', {
      code: 'contact_sheet_empty',
    });
  }
  const features = await ffmpegFeatures(opts);
  const warnings: string[] = [];
  const layout = {
    columns: opts.columns ?? 4,
    cellWidth: opts.cellWidth ?? 320,
    cellHeight: opts.cellHeight ?? 180,
    fontFile: opts.fontFile ?? findFont(items.map((i) => i.label)),
  };
  const run = (labels: string[] | null): Promise<void> =>
    writeAtomically(
      outJpg,
      (tmp) =>
        runFfmpeg(
          features.path,
          [
            ...FFMPEG_HEAD,
            ...items.flatMap((item) => ['-i', item.image]),
            '-filter_complex',
            contactSheetGraph(items.length, labels, layout),
            '-map',
            '[sheet]',
            '-frames:v',
            '1',
            ...ONE_JPEG,
            tmp,
          ],
          { what: 'making the contact sheet', signal: opts.signal },
        ),
      'making the contact sheet',
    );

  if (!features.filters.has('drawtext')) {
    warnings.push(
      `ffmpeg ${features.version} at ${features.path} has no drawtext filter, so the contact sheet has no labels; install an ffmpeg built with libfreetype (Debian: apt-get install ffmpeg) or set FFMPEG_PATH`,
    );
    await run(null);
    return { file: outJpg, labelled: false, warnings };
  }
  try {
    await run(items.map((i) => i.label));
    return { file: outJpg, labelled: true, warnings };
  } catch (cause) {
    if (!(cause instanceof MediaError) || cause.code !== 'ffmpeg_failed') throw cause;
    const reason = cause.stderrTail?.trim().split('\n').at(-1) ?? 'unknown';
    warnings.push(
      `the contact sheet has no labels: ffmpeg could not draw them (${reason}); a font such as DejaVu Sans (Debian: apt-get install fonts-dejavu-core) usually fixes it`,
    );
    await run(null);
    return { file: outJpg, labelled: false, warnings };
  }
}
