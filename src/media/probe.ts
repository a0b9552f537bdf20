import { readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ResultPromise } from 'execa';
import { redactKnown, stripControls } from '../api/redact.js';
import { MediaError } from '../errors.js';
import { loadExeca } from './execa.js';
import { locateTool } from './locate.js';

/** The first video stream of a file, as ffprobe describes it. */
export interface VideoStreamInfo {
  codec: string;
  width: number;
  height: number;
  pixFmt: string;
  /** The stream's base frame rate as ffprobe writes it, e.g. `24/1` or `30000/1001`. */
  frameRate: string;
  /** The same rate as a number, e.g. 24 or 29.97. */
  fps: number;
  /** e.g. `1/12288`. */
  timeBase: string;
  /** e.g. `1:1`; `1:1` when the file does not say. */
  sampleAspectRatio: string;
  nbFrames?: number;
  durationSec?: number;
}

/** The first audio stream of a file, as ffprobe describes it. */
export interface AudioStreamInfo {
  codec: string;
  channels: number;
  /** e.g. `stereo`; empty when the file does not say. */
  channelLayout: string;
  sampleRate: number;
  durationSec?: number;
}

export interface ProbeResult {
  file: string;
  /** The container's duration in seconds. */
  durationSec: number;
  formatName: string;
  sizeBytes?: number;
  video?: VideoStreamInfo;
  audio?: AudioStreamInfo;
}

export interface ProbeOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /**
   * The answers of the job or run probing: one for the same unchanged file (same inode, size
   * and mtime: a download renamed into the store and linked under its name is the same file)
   * is reused. Without it, ffprobe reads the file every time.
   */
  cache?: ProbeCache;
  /**
   * `mp4`: the file must start with an ISO-BMFF `ftyp` box and only the mov/mp4 demuxer may
   * read it; `any`: ffprobe picks the demuxer (local files only, still bounded). Default `mp4`
   * for names ending .mp4, .mov, .m4v or .m4a (every clip and final), else `any`.
   */
  container?: 'mp4' | 'any';
  /** ffprobe is killed after this many ms. Default {@link PROBE_LIMITS}.timeoutMs. */
  timeoutMs?: number;
  /** ffprobe is killed when its resident memory passes this many bytes (where it can be read). */
  maxMemoryBytes?: number;
}

/**
 * Bounds of one ffprobe run. A clip probes in well under a second with a few tens of MB; a
 * file built to make a demuxer work (a gzip bomb, a huge table) is stopped long before it
 * can hold a run or its memory.
 */
export const PROBE_LIMITS = { timeoutMs: 30_000, maxMemoryBytes: 256 * 1024 ** 2 } as const;

/**
 * The demuxer of a probe of an MP4: every clip shotlist reads back is a local MP4 (ISO-BMFF).
 * No guessing: a playlist named .mp4 would make ffprobe fetch its URLs.
 */
const MP4_DEMUXER = ['-f', 'mov,mp4,m4a,3gp,3g2,mj2'] as const;
/** The only protocol any probe may use: no network, no concat or playlist tricks. */
const LOCAL_ONLY = ['-protocol_whitelist', 'file'] as const;
const MP4_NAME = /\.(mp4|mov|m4v|m4a)$/i;

const NOT_A_CLIP_FIX =
  'the file host sent something other than the video: run again to fetch it anew, and report it to the provider if it repeats';

/** What a few well-known non-video starts are, to make the refusal say what arrived. */
function describeStart(head: Buffer): string {
  if (head.length === 0) return 'an empty file';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip data';
  if (head.subarray(0, 4).toString('latin1') === 'PK\x03\x04') return 'a zip archive';
  const text = head.toString('latin1');
  if (text.startsWith('#EXTM3U')) return 'an HLS playlist';
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) return 'HTML or XML';
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return 'JSON';
  // Printable ASCII only: the start of a hostile file is shown, never its escape sequences.
  if (/^[\x20-\x7e\t\r\n]+$/.test(text)) return `text starting "${stripControls(text).trim()}"`;
  return `bytes ${head.toString('hex').replace(/(..)(?!$)/g, '$1 ')}`;
}

/**
 * Refuses a file that does not start like an ISO-BMFF file (an `ftyp` box at offset 4),
 * before any demuxer can be made to guess at it.
 */
export async function checkMp4Magic(file: string): Promise<void> {
  const head = Buffer.alloc(12);
  let read = 0;
  const handle = await open(file, 'r').catch(() => undefined);
  // A file that cannot be opened gets ffprobe's own message.
  if (!handle) return;
  try {
    ({ bytesRead: read } = await handle.read(head, 0, 12, 0));
  } finally {
    await handle.close();
  }
  if (read >= 8 && head.subarray(4, 8).toString('latin1') === 'ftyp') return;
  const describe = describeStart(head.subarray(0, read));
  // The fix is in the message too: a run shows a shot's failure as its message alone.
  throw new MediaError(
    `${file} is not an MP4 video (it holds ${describe}): refused before any decoder read it; ${NOT_A_CLIP_FIX}`,
    { code: 'probe_failed', stderrTail: `not an ISO-BMFF file: ${describe}`, fix: NOT_A_CLIP_FIX },
  );
}

/** Resident memory of a process in bytes, where the OS tells (Linux); undefined elsewhere. */
function residentBytes(pid: number): number | undefined {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]);
    return Number.isFinite(pages) ? pages * 4096 : undefined;
  } catch {
    return undefined;
  }
}

/** Kills `child` when its memory passes `max`; returns whether it did, and a stop function. */
function watchMemory(
  child: ResultPromise,
  max: number,
): { killed: () => boolean; stop: () => void } {
  let killed = false;
  const timer = setInterval(() => {
    const rss = child.pid === undefined ? undefined : residentBytes(child.pid);
    if (rss !== undefined && rss > max) {
      killed = true;
      child.kill('SIGKILL');
    }
  }, 50);
  return { killed: () => killed, stop: () => clearInterval(timer) };
}

// A distro ffprobe spends a quarter of a second loading its libraries before reading a byte,
// and a run probes each clip after download and again before stitching: remember answers.
// They are remembered by file (device and inode), not by name: a verified download renamed
// into the clip store and linked under the shot's name is the same file, probed once.
// Each job or run owns its answers: two jobs of one process share none.
const CACHE_LIMIT = 2000;

/** The probes a job or run has made, by file; see {@link ProbeOptions.cache}. */
export class ProbeCache {
  readonly #answers = new Map<string, { stamp: string; result: ProbeResult }>();

  get(key: string, stamp: string): ProbeResult | undefined {
    const known = this.#answers.get(key);
    return known?.stamp === stamp ? structuredClone(known.result) : undefined;
  }

  set(key: string, stamp: string, result: ProbeResult): void {
    if (this.#answers.size >= CACHE_LIMIT) this.#answers.delete(this.#answers.keys().next().value!);
    this.#answers.set(key, { stamp, result: structuredClone(result) });
  }
}

/** Which file a name leads to (device and inode) and a stamp of its content (size, mtime). */
async function fileStamp(file: string): Promise<{ id: string; stamp: string } | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? { id: `${s.dev}:${s.ino}`, stamp: `${s.size}:${s.mtimeMs}` } : undefined;
  } catch {
    return undefined;
  }
}

interface RawStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  time_base?: string;
  sample_aspect_ratio?: string;
  nb_frames?: string;
  duration?: string;
  channels?: number;
  channel_layout?: string;
  sample_rate?: string;
  disposition?: { attached_pic?: number };
}

interface RawProbe {
  streams?: RawStream[];
  format?: { duration?: string; format_name?: string; size?: string };
}

/** Parses `24/1`, `30000/1001` or `25` into a number; NaN when it is not a usable rate. */
export function parseRate(rate: string | undefined): number {
  if (!rate) return Number.NaN;
  const [num, den] = rate.split('/');
  const n = Number(num);
  const d = den === undefined ? 1 : Number(den);
  return d > 0 && n > 0 ? n / d : Number.NaN;
}

function optionalNumber(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Turns ffprobe's `-print_format json -show_format -show_streams` output into a ProbeResult.
 * Pure, so the odd shapes ffprobe produces can be tested without a binary.
 */
export function parseProbeJson(file: string, json: string): ProbeResult {
  let raw: RawProbe;
  try {
    raw = JSON.parse(json) as RawProbe;
  } catch (cause) {
    throw new MediaError(`ffprobe printed something that is not JSON for ${file}`, {
      code: 'probe_failed',
      stderrTail: json.slice(-2000),
      cause,
    });
  }
  const streams = raw.streams ?? [];
  // Cover art in an mp4/m4a shows up as a video stream; it is not the picture we want.
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const a = streams.find((s) => s.codec_type === 'audio');
  const result: ProbeResult = {
    file,
    durationSec: optionalNumber(raw.format?.duration) ?? 0,
    formatName: raw.format?.format_name ?? '',
  };
  const size = optionalNumber(raw.format?.size);
  if (size !== undefined) result.sizeBytes = size;
  if (v) {
    const rRate = parseRate(v.r_frame_rate);
    const rate = Number.isFinite(rRate) ? v.r_frame_rate! : (v.avg_frame_rate ?? '0/0');
    const sar =
      v.sample_aspect_ratio && v.sample_aspect_ratio !== '0:1' ? v.sample_aspect_ratio : '1:1';
    result.video = {
      codec: v.codec_name ?? '',
      width: v.width ?? 0,
      height: v.height ?? 0,
      pixFmt: v.pix_fmt ?? '',
      frameRate: rate,
      fps: parseRate(rate),
      timeBase: v.time_base ?? '',
      sampleAspectRatio: sar,
    };
    const nbFrames = optionalNumber(v.nb_frames);
    if (nbFrames !== undefined) result.video.nbFrames = nbFrames;
    const duration = optionalNumber(v.duration);
    if (duration !== undefined) result.video.durationSec = duration;
  }
  if (a) {
    result.audio = {
      codec: a.codec_name ?? '',
      channels: a.channels ?? 0,
      channelLayout: a.channel_layout ?? '',
      sampleRate: optionalNumber(a.sample_rate) ?? 0,
    };
    const duration = optionalNumber(a.duration);
    if (duration !== undefined) result.audio.durationSec = duration;
  }
  if (!result.durationSec) {
    result.durationSec = Math.max(result.video?.durationSec ?? 0, result.audio?.durationSec ?? 0);
  }
  return result;
}

/**
 * The last part of a tool's stderr: enough to see why it failed, short enough to print.
 * Terminal escapes are stripped line by line (a file's tags can reach a tool's messages) and
 * the API key is redacted (a URL or a file name can carry it).
 */
export function stderrTail(stderr: unknown, max = 2000, env?: NodeJS.ProcessEnv): string {
  const raw = typeof stderr === 'string' ? stderr : String(stderr ?? '');
  const text = raw
    .slice(-4 * max)
    .split(/\r?\n/)
    .map((line) => redactKnown(stripControls(line), env))
    .join('\n');
  return text.length > max ? text.slice(-max) : text;
}

/** The last `count` non-empty lines of a tool's stderr, indented for a message. */
export function lastLines(stderr: unknown, env?: NodeJS.ProcessEnv, count = 6): string {
  return stderrTail(stderr, 2000, env)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(-count)
    .map((l) => `  ${l}`)
    .join('\n');
}

/**
 * Describes a media file with ffprobe: container duration, first video stream, first audio
 * stream. Throws a MediaError carrying ffprobe's stderr tail when the file cannot be read.
 */
export async function probe(file: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const ffprobe = locateTool('ffprobe', opts.env ?? process.env);
  const { cache } = opts;
  const mp4Only = (opts.container ?? (MP4_NAME.test(file) ? 'mp4' : 'any')) === 'mp4';
  const stamp = cache ? await fileStamp(file) : undefined;
  const key = stamp && `${ffprobe.path}\0${mp4Only}\0${stamp.id}`;
  const known = key && stamp ? cache?.get(key, stamp.stamp) : undefined;
  if (known) return { ...known, file };
  if (mp4Only) await checkMp4Magic(file);
  const maxMemory = opts.maxMemoryBytes ?? PROBE_LIMITS.maxMemoryBytes;
  const timeoutMs = opts.timeoutMs ?? PROBE_LIMITS.timeoutMs;
  const execa = await loadExeca();
  const child = execa(
    ffprobe.path,
    [
      ...['-v', 'error', '-max_alloc', String(Math.floor(maxMemory / 4)), ...LOCAL_ONLY],
      ...(mp4Only ? MP4_DEMUXER : []),
      // `file:` so that a name with a colon is never read as another protocol.
      ...['-print_format', 'json', '-show_format', '-show_streams', `file:${path.resolve(file)}`],
    ],
    {
      reject: false,
      stripFinalNewline: false,
      cancelSignal: opts.signal,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 16 * 1024 ** 2,
    },
  );
  const memory = watchMemory(child, maxMemory);
  const result = await child.finally(memory.stop);
  if (result.isCanceled) {
    throw new MediaError(`probing ${file} was cancelled`, { code: 'cancelled' });
  }
  if (result.timedOut || memory.killed()) {
    const why = result.timedOut
      ? `it took over ${timeoutMs / 1000} s`
      : `it used over ${Math.round(maxMemory / 1024 ** 2)} MB`;
    throw new MediaError(`ffprobe was stopped reading ${file}: ${why}; ${NOT_A_CLIP_FIX}`, {
      code: 'probe_failed',
      fix: NOT_A_CLIP_FIX,
    });
  }
  if (result.exitCode !== 0) {
    const said = lastLines(result.stderr, opts.env);
    const fix = 'check that the file is a complete video (a partial download is not)';
    throw new MediaError(
      `ffprobe could not read ${file}; ${fix}${said ? `; ffprobe said:\n${said}` : ''}`,
      { code: 'probe_failed', stderrTail: stderrTail(result.stderr, 2000, opts.env), fix },
    );
  }
  const parsed = parseProbeJson(file, String(result.stdout));
  if (key && stamp) cache?.set(key, stamp.stamp, parsed);
  return parsed;
}

/**
 * Probes many files, as many at once as there are cores: starting more only makes every
 * ffprobe wait for the others. Results are in the order of `files`.
 */
export async function probeAll(
  files: readonly string[],
  opts: ProbeOptions & { concurrency?: number } = {},
): Promise<ProbeResult[]> {
  const results = new Array<ProbeResult>(files.length);
  const limit = Math.max(1, opts.concurrency ?? os.availableParallelism());
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      results[i] = await probe(files[i]!, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, files.length) }, worker));
  return results;
}

export interface VerifyOptions extends ProbeOptions {
  expectDurationSec?: number;
  /** How far the duration may be from the expected one; defaults to two frames (or 0.1 s). */
  toleranceSec?: number;
}

/**
 * Checks that a file is a playable video: it has a video stream, a positive duration and,
 * when one is given, the expected duration. Returns the probe; throws a MediaError otherwise.
 */
export async function verifyVideo(file: string, opts: VerifyOptions = {}): Promise<ProbeResult> {
  // Whatever its name, a video shotlist verifies is a clip or a final: an MP4.
  const info = await probe(file, { ...opts, container: 'mp4' });
  checkVideo(info, opts);
  return info;
}

/** The pure half of verifyVideo. */
export function checkVideo(
  info: ProbeResult,
  opts: Pick<VerifyOptions, 'expectDurationSec' | 'toleranceSec'> = {},
): void {
  if (!info.video || !info.video.width || !info.video.height) {
    throw new MediaError(`${info.file} has no video stream`, {
      code: 'video_invalid',
      fix: 'the download or the encode is broken: delete the file and run again',
    });
  }
  if (!(info.durationSec > 0)) {
    throw new MediaError(`${info.file} has no duration`, {
      code: 'video_invalid',
      fix: 'the download or the encode is broken: delete the file and run again',
    });
  }
  if (opts.expectDurationSec !== undefined) {
    const fps = Number.isFinite(info.video.fps) ? info.video.fps : 24;
    const tolerance = opts.toleranceSec ?? Math.max(2 / fps, 0.1);
    const diff = Math.abs(info.durationSec - opts.expectDurationSec);
    if (diff > tolerance) {
      throw new MediaError(
        `${info.file} lasts ${info.durationSec.toFixed(3)} s, expected ${opts.expectDurationSec.toFixed(3)} s (±${tolerance.toFixed(3)} s)`,
        {
          code: 'duration_mismatch',
          fix: 'the clip is truncated or the stitch went wrong: delete the file and run again',
        },
      );
    }
  }
}
