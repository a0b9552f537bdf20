/** ffprobe reading a reference video or audio over HTTP, bounded in time and memory. */
import { loadExeca } from '../media/execa.js';
import { locateTool } from '../media/locate.js';
import { PROBE_LIMITS, lastLines, parseProbeJson } from '../media/probe.js';

/** What preflight needs to know of a reference video or audio. */
export interface RemoteMedia {
  durationSec: number;
  hasVideo: boolean;
  hasAudio: boolean;
}

export interface RemoteProbeOptions {
  env: NodeJS.ProcessEnv;
  /** A read that stalls this long fails; the whole probe gets three times as long (30 s at least). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Network protocols only: a playlist cannot make ffprobe read local files. */
const NETWORK_ONLY = ['-protocol_whitelist', 'http,https,tcp,tls'] as const;

/**
 * Reads the container and streams of a remote file; resolves with a finding (a sentence)
 * when ffprobe cannot read it or is stopped.
 */
export async function probeRemote(
  url: string,
  options: RemoteProbeOptions,
): Promise<RemoteMedia | { problem: string }> {
  const ffprobe = locateTool('ffprobe', options.env);
  // A stalled read fails after timeoutMs; a host trickling bytes is stopped after this.
  const limitMs = Math.max(options.timeoutMs * 3, PROBE_LIMITS.timeoutMs);
  const execa = await loadExeca();
  const child = execa(
    ffprobe.path,
    [
      ...['-v', 'error', '-max_alloc', String(Math.floor(PROBE_LIMITS.maxMemoryBytes / 4))],
      ...NETWORK_ONLY,
      ...['-rw_timeout', String(options.timeoutMs * 1000)],
      ...['-print_format', 'json', '-show_format', '-show_streams', url],
    ],
    {
      reject: false,
      stdin: 'ignore',
      cancelSignal: options.signal,
      timeout: limitMs,
      killSignal: 'SIGKILL',
      maxBuffer: 4 * 1024 ** 2,
      // The asset host is not ours: ffprobe gets no proxy credentials or keys from here.
      env: { PATH: options.env.PATH ?? '' },
      extendEnv: false,
    },
  );
  const result = await child;
  if (result.isCanceled) return { problem: 'the probe was cancelled' };
  if (result.timedOut)
    return { problem: `ffprobe got no complete answer within ${limitMs / 1000} s` };
  if (result.exitCode !== 0) {
    const said = lastLines(result.stderr, options.env, 2)
      .trim()
      .replace(/\s*\n\s*/g, '; ');
    return { problem: `ffprobe cannot read it${said ? `: ${said}` : ''}` };
  }
  try {
    const parsed = parseProbeJson(url, String(result.stdout));
    return {
      durationSec: parsed.durationSec,
      hasVideo: parsed.video !== undefined && parsed.video.codec !== '',
      hasAudio: parsed.audio !== undefined && parsed.audio.codec !== '',
    };
  } catch {
    return { problem: 'ffprobe printed no description of it' };
  }
}
