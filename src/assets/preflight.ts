/**
 * Preflight: every http(s) reference of the planned bodies is asked for (HEAD, else a one-byte
 * GET) and, for videos and audios, read by ffprobe, before anything is sent or billed. Findings
 * are data, one per shot and reference; the run refuses (exit 2) when there is any.
 */
import type { Agent } from 'undici';
import pLimit from 'p-limit';
import { EXIT_CODES, ShotlistError, UsageError } from '../errors.js';
import { LIMITS } from '../models.js';
import type { PlannedShot } from '../plan/types.js';
import {
  cachedProbe,
  readProbeCache,
  rememberProbe,
  writeProbeCache,
  type ProbeCache,
} from './preflight-cache.js';
import { probe } from '../media/probe.js';
import { undici } from '../api/undici.js';
import { HttpCheckError, checkUrl, type HttpInfo } from './preflight-http.js';
import { probeRemote, type RemoteMedia } from './preflight-probe.js';
import { collectRefs, type AssetRef, type AssetRole } from './preflight-refs.js';

export type { AssetRef, AssetRole } from './preflight-refs.js';

/** One problem with one reference of one shot (or with a shot's references together). */
export interface PreflightFinding {
  shot: string;
  /** Where in the body: `images.0`, `metadata.video_urls` (for a rule over all of them). */
  field: string;
  /** The reference, or null for a rule over several. */
  url: string | null;
  problem: string;
  /** The HTTP status the host answered, when it answered one that failed. */
  status?: number;
}

export interface PreflightResult {
  /** Distinct URLs asked for. */
  urls: number;
  /** References checked (a URL used by several shots counts once per use). */
  refs: number;
  /** References not fetched: other hosts than loopback, in a simulated run. */
  skipped: number;
  probed: number;
  probeCacheHits: number;
  findings: PreflightFinding[];
  ms: number;
}

export interface PreflightOptions {
  env?: NodeJS.ProcessEnv;
  /** Keeps `.preflight.json` here; without it nothing is cached. */
  outDir?: string;
  /** Fetch loopback hosts only (a simulated run: the simulator does not fetch others either). */
  loopbackOnly?: boolean;
  /** Each request (and each stalled ffprobe read) gives up after this many ms; default 10 s. */
  timeoutMs?: number;
  /** URLs asked at once; default 8. */
  concurrency?: number;
  signal?: AbortSignal;
  now?: () => number;
  /**
   * The local files behind URLs not uploaded yet (uploads happen after the confirmation):
   * each is checked on disk (its type by name, videos and audios probed) instead of fetched.
   */
  localFiles?: ReadonlyMap<string, { file: string; contentType: string; bytes: number }>;
}

export const PREFLIGHT_DEFAULTS = { timeoutMs: 10_000, concurrency: 8, probes: 4 } as const;

/**
 * The per-request timeout: the option, else `$SHOTLIST_PREFLIGHT_TIMEOUT` (seconds), else 10 s.
 * A value that is not a positive number is bad input, said before anything is fetched.
 */
export function preflightTimeoutMs(options: Pick<PreflightOptions, 'timeoutMs' | 'env'>): number {
  if (options.timeoutMs !== undefined) return options.timeoutMs;
  const text = (options.env ?? process.env).SHOTLIST_PREFLIGHT_TIMEOUT;
  if (text === undefined || text.trim() === '') return PREFLIGHT_DEFAULTS.timeoutMs;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(
      `SHOTLIST_PREFLIGHT_TIMEOUT must be a number of seconds above 0, not ${JSON.stringify(text)}`,
      'e.g. SHOTLIST_PREFLIGHT_TIMEOUT=10, or unset it',
    );
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/** A preflight that found problems: nothing was sent. */
export class PreflightError extends ShotlistError {
  constructor(readonly result: PreflightResult) {
    super(
      `preflight found ${result.findings.length} problem${result.findings.length === 1 ? '' : 's'} with the references; nothing was sent\n${formatFindings(result.findings)}`,
      {
        code: 'preflight_failed',
        exitCode: EXIT_CODES.badInput,
        advice: { kind: 'fix_references' },
      },
    );
  }
}

/** The findings, one line each, in shot order. */
export function formatFindings(findings: readonly PreflightFinding[]): string {
  return findings
    .map((f) => `  ${f.shot} ${f.field}${f.url ? ` ${f.url}` : ''}: ${f.problem}`)
    .join('\n');
}

const STATUS_WORDS: Record<number, string> = {
  401: 'the file needs a login',
  403: 'forbidden: the file is private',
  404: 'not found',
  410: 'gone',
};
/** Types that say nothing about the content: the probe (or the API) decides. */
const UNTYPED = new Set(['application/octet-stream', 'binary/octet-stream']);

/** What is wrong with a URL's HTTP answer for the role it plays, if anything. */
export function httpProblem(role: AssetRole, info: HttpInfo): string | undefined {
  if (info.status < 200 || info.status >= 300) {
    const word = STATUS_WORDS[info.status];
    return `the host answered HTTP ${info.status}${word ? ` (${word})` : ''}`;
  }
  const type = info.contentType;
  if (type !== undefined && !UNTYPED.has(type) && type.split('/')[0] !== role) {
    return `the host serves it as ${type}; ${role === 'video' ? 'a' : 'an'} ${role} (${role}/*) is needed`;
  }
  if (info.size === 0) return 'the file is empty';
  return undefined;
}

/** What is wrong with a probed reference for its role, if anything. */
export function mediaProblem(role: AssetRole, media: RemoteMedia): string | undefined {
  if (role === 'video') {
    if (!media.hasVideo) return 'ffprobe finds no video stream in it';
    if (media.durationSec < LIMITS.videoRefMinSeconds) {
      return `it lasts ${Number(media.durationSec.toFixed(2))} s; each reference video must last at least ${LIMITS.videoRefMinSeconds} s`;
    }
  }
  if (role === 'audio' && !media.hasAudio) return 'ffprobe finds no audio stream in it';
  return undefined;
}

type UrlOutcome =
  | { ok: false; problem: string; status?: number }
  | { ok: true; http: HttpInfo; media?: RemoteMedia | { problem: string } };

interface Checker {
  options: PreflightOptions;
  dispatcher: Agent;
  cache: ProbeCache;
  probeLimit: ReturnType<typeof pLimit>;
  counts: { probed: number; probeCacheHits: number };
}

/** A local file about to be uploaded: what its name says it is and, for media, what ffprobe reads. */
async function checkLocal(
  local: { file: string; contentType: string; bytes: number },
  roles: Set<AssetRole>,
  c: Checker,
): Promise<UrlOutcome> {
  const http: HttpInfo = { status: 200, contentType: local.contentType, size: local.bytes };
  if (!roles.has('video') && !roles.has('audio')) return { ok: true, http };
  const env = c.options.env ?? process.env;
  const media = await c.probeLimit(async () => {
    try {
      const info = await probe(local.file, {
        env,
        container: 'any',
        ...(c.options.signal ? { signal: c.options.signal } : {}),
      });
      return {
        durationSec: info.durationSec,
        hasVideo: info.video !== undefined && info.video.codec !== '',
        hasAudio: info.audio !== undefined && info.audio.codec !== '',
      };
    } catch (error) {
      return { problem: `ffprobe cannot read ${local.file}: ${(error as Error).message}` };
    }
  });
  c.counts.probed++;
  return { ok: true, http, media };
}

/** Asks for one URL and, when a video or audio uses it, reads it with ffprobe. */
async function checkOne(url: string, roles: Set<AssetRole>, c: Checker): Promise<UrlOutcome> {
  const local = c.options.localFiles?.get(url);
  if (local) return checkLocal(local, roles, c);
  const timeoutMs = c.options.timeoutMs ?? PREFLIGHT_DEFAULTS.timeoutMs;
  let http: HttpInfo;
  try {
    http = await checkUrl(url, {
      dispatcher: c.dispatcher,
      timeoutMs,
      ...(c.options.signal ? { signal: c.options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof HttpCheckError) return { ok: false, problem: error.message };
    throw error;
  }
  if (http.status < 200 || http.status >= 300) return { ok: true, http };
  if (!roles.has('video') && !roles.has('audio')) return { ok: true, http };
  const known = cachedProbe(c.cache, url, http);
  if (known) {
    c.counts.probeCacheHits++;
    return { ok: true, http, media: known };
  }
  const media = await c.probeLimit(() =>
    probeRemote(url, {
      env: c.options.env ?? process.env,
      timeoutMs,
      ...(c.options.signal ? { signal: c.options.signal } : {}),
    }),
  );
  c.counts.probed++;
  if (!('problem' in media)) rememberProbe(c.cache, url, http, media);
  return { ok: true, http, media };
}

/** The findings of one reference, given what its URL turned out to be. */
function refFindings(ref: AssetRef, outcome: UrlOutcome): PreflightFinding[] {
  const at = { shot: ref.shot, field: ref.field, url: ref.url };
  if (!outcome.ok) return [{ ...at, problem: outcome.problem }];
  const http = httpProblem(ref.role, outcome.http);
  if (http) {
    const failed = outcome.http.status >= 300 ? { status: outcome.http.status } : {};
    return [{ ...at, problem: http, ...failed }];
  }
  if (ref.role === 'image' || !outcome.media) return [];
  if ('problem' in outcome.media) return [{ ...at, problem: outcome.media.problem }];
  const media = mediaProblem(ref.role, outcome.media);
  return media ? [{ ...at, problem: media }] : [];
}

/** The rule over a shot's videos together: at most 15 s in all. */
function totalFindings(
  refs: readonly AssetRef[],
  outcomes: Map<string, UrlOutcome>,
): PreflightFinding[] {
  const totals = new Map<string, number>();
  for (const ref of refs) {
    const o = outcomes.get(ref.url);
    if (ref.role !== 'video' || !o?.ok || !o.media || 'problem' in o.media) continue;
    totals.set(ref.shot, (totals.get(ref.shot) ?? 0) + o.media.durationSec);
  }
  return [...totals]
    .filter(([, seconds]) => seconds > LIMITS.videoRefTotalSeconds)
    .map(([shot, seconds]) => ({
      shot,
      field: 'metadata.video_urls',
      url: null,
      problem: `its reference videos last ${seconds.toFixed(1)} s together; at most ${LIMITS.videoRefTotalSeconds} s are allowed`,
    }));
}

/**
 * Checks every http(s) reference of `shots` (each distinct URL once, `concurrency` at a time)
 * and returns every finding; throws only when aborted. `asset://` ids are not fetched.
 */
export async function preflight(
  shots: readonly Pick<PlannedShot, 'id' | 'variant' | 'take' | 'request'>[],
  options: PreflightOptions = {},
): Promise<PreflightResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const { refs, skipped } = collectRefs(shots, {
    loopbackOnly: options.loopbackOnly === true,
    ...(options.localFiles ? { local: new Set(options.localFiles.keys()) } : {}),
  });
  const roles = new Map<string, Set<AssetRole>>();
  for (const ref of refs) roles.set(ref.url, (roles.get(ref.url) ?? new Set()).add(ref.role));
  const timeoutMs = preflightTimeoutMs(options);
  const checker: Checker = {
    options: { ...options, timeoutMs },
    dispatcher: new (undici().Agent)({ connect: { timeout: timeoutMs } }),
    cache: options.outDir && roles.size > 0 ? await readProbeCache(options.outDir) : new Map(),
    probeLimit: pLimit(PREFLIGHT_DEFAULTS.probes),
    counts: { probed: 0, probeCacheHits: 0 },
  };
  const limit = pLimit(options.concurrency ?? PREFLIGHT_DEFAULTS.concurrency);
  const outcomes = new Map<string, UrlOutcome>();
  try {
    await Promise.all(
      [...roles].map(([url, r]) =>
        limit(async () => void outcomes.set(url, await checkOne(url, r, checker))),
      ),
    );
  } finally {
    await checker.dispatcher.destroy();
  }
  if (options.outDir && checker.counts.probed > 0)
    await writeProbeCache(options.outDir, checker.cache);
  const findings = [
    ...refs.flatMap((ref) => refFindings(ref, outcomes.get(ref.url)!)),
    ...totalFindings(refs, outcomes),
  ];
  return {
    urls: roles.size,
    refs: refs.length,
    skipped,
    ...checker.counts,
    findings,
    ms: now() - started,
  };
}

/** Runs {@link preflight} and throws a {@link PreflightError} when it finds anything. */
export async function preflightOrRefuse(
  shots: readonly Pick<PlannedShot, 'id' | 'variant' | 'take' | 'request'>[],
  options: PreflightOptions = {},
): Promise<PreflightResult> {
  const result = await preflight(shots, options);
  if (result.findings.length > 0) throw new PreflightError(result);
  return result;
}
