import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { MediaError } from '../errors.js';
import { tempName, withAtomicFile } from '../safe-fs.js';
import { FFMPEG_HEAD, findFont } from '../media/ffmpeg-common.js';
import { loadExeca } from '../media/execa.js';
import { detectFeatures, findBundled, locateTool, type FfmpegFeatures } from '../media/locate.js';
import { PIXEL_SIZES, type Ratio, type Size } from '../models.js';
import { effectiveSettings, type VideoRequest } from '../api/contract.js';
import { hash32 } from './random.js';

/** Everything that changes a clip's bytes; two tasks with equal specs share one file. */
export interface ClipSpec {
  model: string;
  size: Size;
  ratio: Ratio;
  width: number;
  height: number;
  seconds: number;
  audio: boolean;
  prompt: string;
  /** The image the clip starts from (image-to-video, first/last frame), named by its content. */
  image?: { file: string; sha256: string };
  /**
   * Which render of this body (1 = the first): the API never returns the same video twice,
   * so each later task of a repeated body (another take) looks different and says its number.
   */
  variation: number;
}

/** The clip the API would return for a (valid) request body, in its `variation`-th render. */
export function clipSpec(body: VideoRequest, variation = 1): ClipSpec {
  const { size, ratio, seconds, audio } = effectiveSettings(body);
  const { width, height } = PIXEL_SIZES[size][ratio];
  return {
    model: body.model,
    size,
    ratio,
    width,
    height,
    seconds,
    audio,
    prompt: body.prompt,
    variation,
  };
}

const FPS = 24;
// Bump when the encoding changes, so old cached clips are not served for new specs.
const FORMAT_VERSION = 4;
const PALETTE = ['1f77b4', 'ff7f0e', '2ca02c', 'd62728', '9467bd', '8c564b', 'e377c2', '17becf'];
const TONES = [330, 392, 440, 494, 523, 587, 659, 740];
// Paths put into a filtergraph unescaped must not carry any of its special characters.
const SAFE_PATH = /^[\w./-]+$/;

export interface ClipStoreOptions {
  env: NodeJS.ProcessEnv;
  cacheDir: string | undefined;
  /**
   * A cache shared by every simulator on this machine (clips depend only on their spec): a
   * clip missing from `cacheDir` is linked from here before it is encoded, and a new one is
   * linked here after. Keeps per-folder state (a resumable simulated run) as cheap as before.
   */
  sharedDir?: string;
  onWarn: (message: string) => void;
}

/** The machine-wide cache of simulated clips. */
export const SHARED_CLIP_CACHE = path.join(tmpdir(), 'shotlist-sim-clips');

/** Links `from` to `to` (a copy where links cannot be made); false when `from` is not there. */
async function linkOrCopy(from: string, to: string): Promise<boolean> {
  try {
    if (!(await lstat(from)).isFile()) return false;
    await mkdir(path.dirname(to), { recursive: true });
    // A link is atomic; a copy (across file systems) goes through a temp name, so a reader
    // never sees half a clip.
    await link(from, to).catch(async () => {
      const tmp = tempName(to);
      await copyFile(from, tmp, constants.COPYFILE_EXCL);
      await rename(tmp, to).catch((error: unknown) =>
        rm(tmp, { force: true }).then(() => Promise.reject(error)),
      );
    });
    return true;
  } catch {
    return false;
  }
}

/** The ffmpeg inputs and filters (first the labelled part, then a chain) of a clip's picture. */
interface Picture {
  inputs: string[];
  filters: string[];
}

/** How many `-i` inputs `args` holds: the index of the next one. */
function inputCount(args: readonly string[]): number {
  return args.filter((arg) => arg === '-i').length;
}

/**
 * A plain colour with a white square moving along the bottom. One frame twice as wide is
 * drawn once and looped; each frame is a window cut from it (a crop copies no pixels), so the
 * square moves with no per-frame drawing: half the CPU of overlaying it on every frame.
 */
function colourPicture(
  colour: string,
  width: number,
  height: number,
  marker: number,
  frames: number,
): Picture {
  const y = Math.round(height - marker - height / 12);
  return {
    inputs: ['-f', 'lavfi', '-i', `color=c=0x${colour}:s=${2 * width}x${height}:r=${FPS}`],
    filters: [
      `[0:v]format=yuv420p,trim=end_frame=1,` +
        `drawbox=x=${width}:y=${y}:w=${marker}:h=${marker}:color=white:t=fill,` +
        `loop=loop=-1:size=1,setpts=N/${FPS}/TB[background]`,
      // The square sits at x = width on the wide frame: at x = mod(t*width/3, W-w) on screen.
      `[background]crop=w=${width}:h=${height}:y=0` +
        `:x=${width}-mod(t*${Math.round(width / 3)}\\,${width - marker})`,
      `trim=end_frame=${frames}`,
    ],
  };
}

/** A given image, scaled to cover the frame, with the moving square on top. */
function imagePicture(
  file: string,
  width: number,
  height: number,
  marker: number,
  frames: number,
): Picture {
  const image = ['-f', 'image2', '-pattern_type', 'none', '-loop', '1', '-framerate', String(FPS)];
  const square = ['-f', 'lavfi', '-i', `color=c=white:s=${marker}x${marker}:r=${FPS}`];
  const cover = `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height},setsar=1`;
  return {
    inputs: [...image, '-i', file, ...square],
    filters: [
      // Planar YUV from the start: overlaying in RGB and converting costs about half the encode.
      `[1:v]format=yuv420p[marker];[0:v]${cover},format=yuv420p[background]`,
      `[background][marker]overlay=x=mod(t*${Math.round(width / 3)}\\,W-w):y=H-h-H/12:eval=frame:format=yuv420`,
      `trim=end_frame=${frames}`,
    ],
  };
}

/** The encoders every clip needs. */
const ENCODERS = ['libx264', 'aac'];

/**
 * The ffmpeg the simulator encodes with: `FFMPEG_PATH` when set; else the static build of the
 * optional npm package when it has the encoders; else the one `locateTool` finds (the PATH's).
 * The simulator starts one ffmpeg per clip, and a distro build loads some 200 shared libraries
 * first: more than half the CPU of encoding a 4 s 480p clip, against almost none for the
 * static build. Any working ffmpeg makes an equally valid clip of the same size and length.
 */
async function encoderFfmpeg(env: NodeJS.ProcessEnv): Promise<FfmpegFeatures> {
  const bundled = env.FFMPEG_PATH ? undefined : findBundled('ffmpeg');
  if (bundled) {
    const features = await detectFeatures({ name: 'ffmpeg', path: bundled, source: 'bundled' }, env)
      // A bundled binary that does not start (another libc, say) leaves the PATH's.
      .catch(() => undefined);
    if (features && ENCODERS.every((needed) => features.encoders.has(needed))) return features;
  }
  return detectFeatures(locateTool('ffmpeg', env), env);
}

interface Encoder {
  ffmpeg: FfmpegFeatures;
  font: string | undefined;
}

export interface ClipStats {
  encoded: number;
  cache_hits: number;
}

/** A short hash of the whole prompt: two prompts never share a clip. */
function promptId(prompt: string): string {
  return createHash('sha256').update(prompt).digest('hex').slice(0, 16);
}

/** The ASCII-safe start of a prompt (the bundled fonts have no CJK glyphs), or its hash. */
function promptLabel(prompt: string): string {
  const ascii = prompt
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 32);
  const hash = `#${hash32(prompt).toString(16).padStart(8, '0')}`;
  // Punctuation left over from a Chinese prompt (`, ,`) says nothing: show the hash instead.
  if (!/[A-Za-z0-9].*[A-Za-z0-9].*[A-Za-z0-9]/.test(ascii)) return `prompt ${hash}`;
  // Prompts that start alike are told apart by the hash of the whole.
  return ascii === prompt ? ascii : `${ascii} ${hash}`;
}

/**
 * Makes and caches the MP4 files behind `metadata.url`: one ffmpeg encode per distinct
 * spec, shared by concurrent callers, written under a temporary name and renamed.
 */
export class ClipStore {
  readonly dir: string;
  readonly stats: ClipStats = { encoded: 0, cache_hits: 0 };
  private readonly pending = new Map<string, Promise<string>>();
  private readonly limit = pLimit(2);
  private readonly abort = new AbortController();
  private encoder: Promise<Encoder> | undefined;

  constructor(private readonly options: ClipStoreOptions) {
    this.dir = options.cacheDir ?? SHARED_CLIP_CACHE;
  }

  /** Finds ffmpeg and a font once; rejects with a MediaError when no usable ffmpeg exists. */
  ensureEncoder(): Promise<Encoder> {
    this.encoder ??= (async () => {
      const ffmpeg = await encoderFfmpeg(this.options.env);
      for (const needed of ENCODERS) {
        if (!ffmpeg.encoders.has(needed)) {
          throw new MediaError(`${ffmpeg.path} has no ${needed} encoder`, {
            code: 'tool_broken',
            fix: 'set FFMPEG_PATH to an ffmpeg built with libx264 and aac',
          });
        }
      }
      let font: string | undefined;
      if (ffmpeg.filters.has('drawtext')) {
        // The label is ASCII (see promptLabel), so any Latin font draws it.
        font = findFont();
        if (font && !SAFE_PATH.test(font)) font = undefined;
        if (!font) this.options.onWarn('no font file found: clips carry no text');
      }
      return { ffmpeg, font };
    })();
    return this.encoder;
  }

  /** The path of the clip for `spec`, encoding it first if it is not cached yet. */
  async ensure(spec: ClipSpec): Promise<string> {
    const encoder = await this.ensureEncoder();
    // A later variation shifts the colour (and tone) and names itself: takes tell apart by eye.
    const colour = (hash32(spec.prompt) + spec.variation - 1) % PALETTE.length;
    const render = spec.variation > 1 ? `  render ${spec.variation}` : '';
    const text = encoder.font
      ? `${spec.model}  ${spec.size}  ${spec.ratio}  ${spec.seconds}s${render}\n${promptLabel(spec.prompt)}`
      : undefined;
    const key = createHash('sha256')
      .update(
        JSON.stringify([
          FORMAT_VERSION,
          encoder.ffmpeg.version,
          spec.width,
          spec.height,
          spec.seconds,
          spec.audio,
          colour,
          text ?? null,
          ...(spec.image ? [spec.image.sha256] : []),
          promptId(spec.prompt),
          // Without a font the text is gone: the variation still keeps its own file.
          ...(spec.variation > 1 ? [spec.variation] : []),
        ]),
      )
      .digest('hex')
      .slice(0, 32);
    const existing = this.pending.get(key);
    if (existing) {
      this.stats.cache_hits++;
      return existing;
    }
    const file = path.join(this.dir, `${key}.mp4`);
    const job = (async () => {
      try {
        if ((await stat(file)).size > 0) {
          this.stats.cache_hits++;
          return file;
        }
      } catch {
        // not cached yet
      }
      const shared = this.options.sharedDir && path.join(this.options.sharedDir, `${key}.mp4`);
      if (shared && shared !== file && (await linkOrCopy(shared, file))) {
        this.stats.cache_hits++;
        return file;
      }
      await this.limit(() => this.encode(encoder, spec, colour, text, file));
      this.stats.encoded++;
      if (shared && shared !== file) await linkOrCopy(file, shared);
      return file;
    })();
    this.pending.set(key, job);
    // A failed encode is not cached: the next request tries again.
    job.catch(() => this.pending.delete(key));
    return job;
  }

  private async encode(
    encoder: Encoder,
    spec: ClipSpec,
    colour: number,
    text: string | undefined,
    file: string,
  ): Promise<void> {
    if (this.abort.signal.aborted)
      throw new MediaError('the simulator is closing', { code: 'aborted' });
    await mkdir(this.dir, { recursive: true });
    await withAtomicFile(file, (temp) => this.run(encoder, spec, colour, text, temp));
  }

  /** One ffmpeg encode of the clip for `spec` into `temp`. */
  private async run(
    encoder: Encoder,
    spec: ClipSpec,
    colour: number,
    text: string | undefined,
    temp: string,
  ): Promise<void> {
    const textFile = tempName(temp, '.drawtext.txt');
    const { width, height, seconds } = spec;
    const frames = FPS * seconds + 1;
    const marker = Math.max(8, Math.round(Math.min(width, height) / 10));
    const { inputs, filters } = spec.image
      ? imagePicture(spec.image.file, width, height, marker, frames)
      : colourPicture(PALETTE[colour]!, width, height, marker, frames);
    if (text && encoder.font && SAFE_PATH.test(textFile)) {
      await writeFile(textFile, text, { flag: 'wx' });
      filters.push(
        `drawtext=fontfile=${encoder.font}:textfile=${textFile}:expansion=none:fontcolor=white` +
          `:fontsize=${Math.round(width / 28)}:line_spacing=8:x=(w-text_w)/2:y=(h-text_h)/2` +
          ':box=1:boxcolor=black@0.45:boxborderw=12',
      );
    }
    const args = [...FFMPEG_HEAD, ...inputs];
    if (spec.audio) {
      args.push(
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=${TONES[colour]}:sample_rate=44100:duration=${(frames / FPS).toFixed(6)}`,
      );
    }
    const [split, ...chain] = filters;
    args.push('-filter_complex', `${split};${chain.join(',')}[v]`, '-map', '[v]');
    if (spec.audio)
      args.push('-map', `${inputCount(inputs)}:a`, '-c:a', 'aac', '-ac', '1', '-b:a', '48k');
    args.push(
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-threads',
      '1',
      '-crf',
      '30',
      '-g',
      String(FPS * 2),
      '-pix_fmt',
      'yuv420p',
      '-map_metadata',
      '-1',
      // Without a font the picture cannot tell prompts and renders apart: the file still does.
      '-metadata',
      `comment=prompt ${promptId(spec.prompt)} render ${spec.variation}`,
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      temp,
    );
    const execa = await loadExeca();
    try {
      const child = execa(encoder.ffmpeg.path, args, {
        reject: false,
        stdin: 'ignore',
        cancelSignal: this.abort.signal,
      });
      // Encodes yield the CPU to request handling: a busy simulator must keep answering fast.
      if (child.pid !== undefined) {
        try {
          setPriority(child.pid, 10);
        } catch {
          // not allowed here; the encode just runs at normal priority
        }
      }
      const result = await child;
      if (result.exitCode !== 0 || result.isCanceled) {
        throw new MediaError(`ffmpeg could not make a ${width}x${height} ${seconds}s clip`, {
          code: result.isCanceled ? 'aborted' : 'encode_failed',
          stderrTail: String(result.stderr).slice(-2000),
          fix: 'check that ffmpeg works (ffmpeg -version) or set FFMPEG_PATH to another build',
        });
      }
    } finally {
      await rm(textFile, { force: true });
    }
  }

  /** Stops running encodes (their temporary files are removed) and waits for them. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.pending.values()]);
  }
}
