import { loadExeca } from './execa.js';
import { MediaError } from '../errors.js';
import { lastLines, stderrTail } from './probe.js';

export interface FfmpegProgress {
  /** Seconds of output written so far. */
  outTimeSec: number;
  /** ffmpeg's own speed figure, e.g. 3.2 for 3.2x real time, when it gave one. */
  speed?: number;
  frame?: number;
  done: boolean;
}

/**
 * Reads the `key=value` blocks of `ffmpeg -progress` and calls back once per block. Old
 * builds print only `out_time_ms`, which despite its name counts microseconds, like
 * `out_time_us` in newer ones.
 */
export function progressParser(onBlock: (p: FfmpegProgress) => void): (chunk: string) => void {
  let pending = '';
  let block: Record<string, string> = {};
  return (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      block[key] = value;
      if (key !== 'progress') continue;
      const micros = Number(block.out_time_us ?? block.out_time_ms);
      const progress: FfmpegProgress = {
        outTimeSec: Number.isFinite(micros) && micros > 0 ? micros / 1e6 : 0,
        done: value === 'end',
      };
      const speed = Number.parseFloat(block.speed ?? '');
      if (Number.isFinite(speed)) progress.speed = speed;
      const frame = Number(block.frame);
      if (block.frame !== undefined && Number.isFinite(frame)) progress.frame = frame;
      onBlock(progress);
      block = {};
    }
  };
}

export interface RunFfmpegOptions {
  signal?: AbortSignal;
  /** Where the API key may be found, to keep it out of ffmpeg's lines in the error. */
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: FfmpegProgress) => void;
  /** Says what was being done, for the error message. */
  what: string;
}

/** Runs an ffmpeg binary with an argument array; throws a MediaError with its stderr tail. */
export async function runFfmpeg(
  binary: string,
  args: readonly string[],
  opts: RunFfmpegOptions,
): Promise<void> {
  await runFfmpegText(binary, args, opts);
}

/** `runFfmpeg`, resolving to ffmpeg's stderr: where measuring filters (loudnorm, ebur128) print. */
export async function runFfmpegText(
  binary: string,
  args: readonly string[],
  opts: RunFfmpegOptions,
): Promise<string> {
  const execa = await loadExeca();
  const child = execa(binary, args, {
    reject: false,
    cancelSignal: opts.signal,
  });
  if (opts.onProgress && child.stdout) {
    const feed = progressParser(opts.onProgress);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => feed(chunk));
  }
  const result = await child;
  if (result.isCanceled) {
    throw new MediaError(`${opts.what} was cancelled`, { code: 'cancelled' });
  }
  if (result.exitCode !== 0) {
    // ffmpeg's stderr is captured, never shown as it runs: its last lines go in the message.
    const said = lastLines(result.stderr, opts.env);
    throw new MediaError(
      `ffmpeg failed while ${opts.what} (exit ${result.exitCode ?? result.signal})${said ? `; ffmpeg said:\n${said}` : ', without a message'}`,
      {
        code: 'ffmpeg_failed',
        stderrTail: stderrTail(result.stderr, 2000, opts.env),
        fix: 'the lines from ffmpeg say what it could not do; FFMPEG_PATH picks another ffmpeg',
      },
    );
  }
  return String(result.stderr ?? '');
}
