/**
 * The one HTTP wrapper of the Seedance API: it owns the base URL, the key, timeouts, retries
 * and redaction. The public methods say what happened in words the renderer can act on;
 * a POST is repeated only when the server certainly created nothing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Agent, Dispatcher, Pool } from 'undici';
import { ApiError, EXIT_CODES, UsageError } from '../errors.js';
import type { VideoRequest } from './contract.js';
import { downloadFile, type DownloadOptions, type DownloadResult } from './download.js';
import { OPEN_GATE, type RequestGate } from './gate.js';
import { cleanServerText, redact } from './redact.js';
import { undici } from './undici.js';
import {
  accountRefusal,
  backoffDelay,
  classifyFailure,
  DEFAULT_MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  type BackoffOptions,
} from './retry.js';
import { isTaskProblem, readVideoTask, TASK_ID, type VideoTask } from './types.js';
import { checkBaseUrl } from './url.js';

/** What a request was for; counted in `stats()`. */
export type RequestKind = 'submit' | 'poll' | 'download';

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Sockets kept to the API host. Default 32. */
  connections?: number;
  /**
   * Time limits in ms. `requestMs` bounds one API request from start to the end of its answer
   * (default 60 s); `downloadMs` one download, its retries included (default 30 min);
   * `headersMs` the wait for response headers (default 30 s).
   */
  timeouts?: {
    connectMs?: number;
    headersMs?: number;
    bodyMs?: number;
    requestMs?: number;
    downloadMs?: number;
  };
  /**
   * A download that brings fewer than `bytesPerSec` over a `windowMs` window is cut (and
   * retried). Default 32 KiB/s over 30 s: a trickling server cannot hold a run.
   */
  minThroughput?: { bytesPerSec?: number; windowMs?: number };
  /** The longest `Retry-After` obeyed, in ms. Default {@link DEFAULT_MAX_RETRY_AFTER_MS}. */
  maxRetryAfterMs?: number;
  /**
   * Read for the `SHOTLIST_HTTP_*` limits (see {@link resolveLimits}); explicit options win.
   * Default `process.env`.
   */
  env?: NodeJS.ProcessEnv;
  /** Attempts per call for repeatable requests (GETs, a POST refused for certain). Default 4. */
  attempts?: number;
  /** First backoff delay and its ceiling. Default 500 ms and 20 s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** The request budget shared by all shots; default none. */
  gate?: RequestGate;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
  /** Called once per HTTP request actually sent (retries included). */
  onRequest?: (kind: RequestKind) => void;
  /** Largest video file accepted, in bytes. Default {@link DEFAULT_MAX_DOWNLOAD_BYTES}. */
  maxDownloadBytes?: number;
  /**
   * After a submission's signal aborts, a POST already sent is given this long to answer, in
   * ms (default {@link SUBMIT_GRACE_MS}): its task id is what keeps the shot from being
   * `unknown`. Nothing new is sent once the signal has aborted.
   */
  submitGraceMs?: number;
}

/** How long Ctrl-C lets a POST already sent bring back its task id. */
export const SUBMIT_GRACE_MS = 3_000;

/** 2 GiB: far above any clip the API makes, low enough to stop a runaway download. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 2 * 1024 ** 3;

/** How a submission ended. Only `created` carries a task; the others explain why not. */
export type SubmitResult =
  | { kind: 'created'; task: VideoTask }
  /** The server refused the body (400, 422...): no task exists. */
  | { kind: 'rejected'; error: ApiError }
  /** The server may or may not have created a task (5xx, timeout or reset after sending). */
  | { kind: 'unknown'; error: ApiError }
  /**
   * Answered 429 (only with `requeue`): nothing was created; the caller sends it again later,
   * after `retryAfterMs` when the server said.
   */
  | { kind: 'limited'; error: ApiError; retryAfterMs: number | undefined };

/** How one POST is sent. */
export interface SubmitOptions {
  idempotencyKey: string;
  signal?: AbortSignal;
  /**
   * A 429 is returned as `limited` at once instead of waited out here (nor does it hold back
   * the other requests): the caller frees the task's place and sends the shot again later.
   */
  requeue?: boolean;
}

export interface ClientStats {
  requests: Record<RequestKind, number>;
  retries: number;
}

export interface ApiClient {
  /** The base URL, normalised (no trailing slash). */
  readonly baseUrl: string;
  /**
   * `POST /v1/videos`. Throws an ApiError only for 401/403 (the run must stop). Aborting
   * `signal` ends it at once: `unknown` when the request had left this machine, else
   * `rejected` with code `interrupted` (nothing was created).
   */
  submit(body: VideoRequest, options: SubmitOptions): Promise<SubmitResult>;
  /**
   * `GET /v1/videos/{id}`, retried on connection errors, 429 and 5xx. Throws an ApiError when
   * it still fails (`retryAfterMs` set when the server asked to wait), and for 401/403/404.
   */
  getTask(taskId: string, options?: { signal?: AbortSignal }): Promise<VideoTask>;
  /** Streams a result file to disk, never sending the key (the file lives on another host). */
  download(url: string, file: string, options?: DownloadOptions): Promise<DownloadResult>;
  stats(): ClientStats;
  close(): Promise<void>;
}

/** An ApiError a poller may wait out. */
export class RetryableApiError extends ApiError {
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    options: ConstructorParameters<typeof ApiError>[1] & { retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A request that got no complete answer; `sent` says whether it left this machine,
 * `aborted` whether the caller's signal stopped it.
 */
class TransportError extends Error {
  readonly sent: boolean;
  readonly aborted: boolean;
  readonly code: string | undefined;
  constructor(cause: unknown, sent: boolean, aborted = false) {
    const err = cause as { message?: string; code?: string };
    super(err?.message ?? String(cause), { cause });
    this.sent = sent;
    this.aborted = aborted;
    this.code = err?.code;
  }
}

/** A request that outlived its overall deadline. */
class DeadlineError extends Error {
  readonly code = 'deadline_exceeded';
  constructor(ms: number) {
    super(`no complete answer within ${formatSeconds(ms)}`);
  }
}

const formatSeconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** Every limit of the client, resolved: explicit option, else environment, else default. */
export interface ClientLimits {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
  requestMs: number;
  downloadMs: number;
  minBytesPerSec: number;
  windowMs: number;
  maxRetryAfterMs: number;
}

/** The environment variables that set a limit when the options do not, and their defaults. */
const LIMIT_ENV: Record<keyof ClientLimits, [string | undefined, number]> = {
  connectMs: [undefined, 10_000],
  headersMs: ['SHOTLIST_HTTP_HEADERS_MS', 30_000],
  bodyMs: [undefined, 30_000],
  requestMs: ['SHOTLIST_HTTP_DEADLINE_MS', 60_000],
  downloadMs: ['SHOTLIST_DOWNLOAD_DEADLINE_MS', 30 * 60_000],
  minBytesPerSec: ['SHOTLIST_DOWNLOAD_MIN_BPS', 32 * 1024],
  windowMs: ['SHOTLIST_DOWNLOAD_WINDOW_MS', 30_000],
  maxRetryAfterMs: ['SHOTLIST_MAX_RETRY_AFTER_MS', DEFAULT_MAX_RETRY_AFTER_MS],
};

/**
 * Resolves the client's limits: an explicit option wins, then its `SHOTLIST_*` environment
 * variable, then the default. A variable that is not a positive number is a usage error.
 */
export function resolveLimits(options: ApiClientOptions): ClientLimits {
  const env = options.env ?? process.env;
  const given: Partial<Record<keyof ClientLimits, number | undefined>> = {
    connectMs: options.timeouts?.connectMs,
    headersMs: options.timeouts?.headersMs,
    bodyMs: options.timeouts?.bodyMs,
    requestMs: options.timeouts?.requestMs,
    downloadMs: options.timeouts?.downloadMs,
    minBytesPerSec: options.minThroughput?.bytesPerSec,
    windowMs: options.minThroughput?.windowMs,
    maxRetryAfterMs: options.maxRetryAfterMs,
  };
  const limits = {} as ClientLimits;
  for (const [name, [variable, fallback]] of Object.entries(LIMIT_ENV) as [
    keyof ClientLimits,
    [string | undefined, number],
  ][]) {
    const raw = variable === undefined ? undefined : env[variable];
    let value = given[name];
    if (value === undefined && raw !== undefined && raw !== '') {
      value = Number(raw);
      if (!(value > 0) || !Number.isFinite(value)) {
        throw new UsageError(
          `${variable}=${JSON.stringify(raw)} is not a positive number`,
          `set ${variable} to a number above 0, or unset it for the default (${fallback})`,
        );
      }
    }
    limits[name] = value ?? fallback;
  }
  return limits;
}

const MAX_JSON_BYTES = 1 << 20;

/** How each kind of refused account is worded, coded and fixed. */
const REFUSED = {
  key: {
    what: 'the API refused the key',
    code: 'unauthorized',
    fix: 'check the key in SHOTLIST_API_KEY (or API_KEY, or .env) and that it may use this API, then run the same command again',
  },
  quota: {
    what: 'the API refused the account: its quota is spent',
    code: 'quota_exhausted',
    fix: 'add quota to the account (or use a key that has some), then run the same command again: the tasks already sent are kept, the shots not sent yet are sent then',
  },
} as const;

/**
 * Sends one request through the pool with a hand-written handler, because only the handler
 * learns whether the request was written to the socket: the line between a POST that may be
 * repeated and one that may have created a task. The request ends by `deadlineMs` at the
 * latest, or as soon as `signal` aborts, whatever the server does.
 */
function exchange(
  dispatcher: Dispatcher,
  options: { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string },
  limits: { deadlineMs: number; signal?: AbortSignal | undefined },
): Promise<RawResponse> {
  const { signal } = limits;
  return new Promise((resolve, reject) => {
    let sent = false;
    let settled = false;
    let status = 0;
    let size = 0;
    const headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    let abort: ((reason?: Error) => void) | undefined;
    let stopReason: Error | undefined;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    // On a socket undici ends the request (and calls onError); still queued, it ends here.
    const stop = (reason: Error) => {
      stopReason ??= reason;
      if (abort) abort(reason);
      else finish(() => reject(new TransportError(reason, false, !!signal?.aborted)));
    };
    const onAbort = () => stop(new Error('interrupted', { cause: signal?.reason }));
    const timer = setTimeout(() => stop(new DeadlineError(limits.deadlineMs)), limits.deadlineMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) return onAbort();
    const handler: Dispatcher.DispatchHandler & { onRequestSent(): void } = {
      onConnect(abortFn) {
        abort = abortFn;
        if (stopReason) abortFn(stopReason);
      },
      onRequestSent() {
        sent = true;
      },
      onHeaders(statusCode, rawHeaders) {
        status = statusCode;
        for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
          headers[String(rawHeaders[i]).toLowerCase()] = String(rawHeaders[i + 1]);
        }
        return true;
      },
      onData(chunk) {
        size += chunk.length;
        if (size > MAX_JSON_BYTES) {
          abort?.(new Error('the API answered with more than 1 MB'));
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        finish(() => resolve({ status, headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
      onError(err) {
        finish(() => reject(new TransportError(stopReason ?? err, sent, !!signal?.aborted)));
      },
    };
    dispatcher.dispatch(
      { method: options.method, path: options.path, headers: options.headers, body: options.body },
      handler,
    );
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The server's own words from an error body (`{error:{message,code}}`, `{code,message,data}`). */
function serverWords(body: unknown): { message?: string; code?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as { error?: unknown; message?: unknown; code?: unknown };
  const e =
    typeof b.error === 'object' && b.error !== null ? (b.error as Record<string, unknown>) : b;
  return {
    ...(typeof e.message === 'string'
      ? { message: e.message }
      : typeof b.error === 'string'
        ? { message: b.error }
        : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  };
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  delay(ms, undefined, signal ? { signal } : undefined);

/** A submission stopped by its signal: whether it may have created a task decides the kind. */
function interruptedSubmit(sent: boolean): SubmitResult {
  return sent
    ? {
        kind: 'unknown',
        error: new ApiError('submitting the shot was interrupted after it was sent', {
          code: 'submit_ambiguous',
        }),
      }
    : {
        kind: 'rejected',
        error: new ApiError('submitting the shot was interrupted before anything was sent', {
          code: 'interrupted',
        }),
      };
}

/** What every request of one client shares: its pool, limits, retry policy and counters. */
interface Connection {
  baseUrl: string;
  /** The base URL's path, before `/v1/...`. */
  prefix: string;
  secrets: string[];
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  gate: RequestGate;
  attempts: number;
  backoff: BackoffOptions;
  limits: ClientLimits;
  pool: Pool;
  /** Files live on another origin: a separate dispatcher that is never given the key. */
  files: Agent;
  stats: ClientStats;
  authHeaders: Record<string, string>;
  onRequest: ((kind: RequestKind) => void) | undefined;
  submitGraceMs: number;
}

function connect(options: ApiClientOptions): Connection {
  const base = checkBaseUrl(options.baseUrl);
  const limits = resolveLimits(options);
  const dispatcherLimits = {
    connectTimeout: limits.connectMs,
    headersTimeout: limits.headersMs,
    bodyTimeout: limits.bodyMs,
  };
  return {
    baseUrl: base.toString().replace(/\/+$/, ''),
    prefix: base.pathname.replace(/\/+$/, ''),
    secrets: [options.apiKey],
    sleep: options.sleep ?? defaultSleep,
    now: options.now ?? Date.now,
    gate: options.gate ?? OPEN_GATE,
    attempts: Math.max(1, options.attempts ?? 4),
    backoff: {
      baseMs: options.backoff?.baseMs ?? 500,
      maxMs: options.backoff?.maxMs ?? 20_000,
      random: options.random ?? Math.random,
    },
    limits,
    pool: new (undici().Pool)(base.origin, {
      connections: options.connections ?? 32,
      ...dispatcherLimits,
      keepAliveTimeout: 4_000,
    }),
    files: new (undici().Agent)({ connections: 16, ...dispatcherLimits }),
    stats: { requests: { submit: 0, poll: 0, download: 0 }, retries: 0 },
    authHeaders: { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' },
    onRequest: options.onRequest,
    submitGraceMs: Math.max(0, options.submitGraceMs ?? SUBMIT_GRACE_MS),
  };
}

/**
 * A signal that aborts `ms` after `signal` does: a POST already on the wire may still bring
 * back its task id, where cutting it at once would leave the shot unknown (maybe billed).
 */
function afterGrace(
  signal: AbortSignal | undefined,
  ms: number,
): { signal: AbortSignal | undefined; done(): void } {
  if (!signal || ms <= 0) return { signal, done() {} };
  const late = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    timer = setTimeout(() => late.abort(signal.reason), ms);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    signal: late.signal,
    done() {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(timer);
    },
  };
}

function count(c: Connection, kind: RequestKind): void {
  c.stats.requests[kind]++;
  c.onRequest?.(kind);
}

function clean(c: Connection, text: string, max?: number): string {
  return cleanServerText(text, c.secrets, max);
}

function retryAfterOf(c: Connection, res: RawResponse): number | undefined {
  return parseRetryAfter(res.headers['retry-after'], c.now(), c.limits.maxRetryAfterMs);
}

function send(
  c: Connection,
  method: 'GET' | 'POST',
  path: string,
  extra: { headers: Record<string, string>; body?: string; signal?: AbortSignal | undefined },
): Promise<RawResponse> {
  return exchange(
    c.pool,
    { method, path, headers: extra.headers, ...(extra.body ? { body: extra.body } : {}) },
    { deadlineMs: c.limits.requestMs, signal: extra.signal },
  );
}

function httpError(c: Connection, what: string, res: RawResponse, code: string): ApiError {
  const words = serverWords(parseJson(res.body));
  const serverMessage = words.message !== undefined ? clean(c, words.message) : undefined;
  const serverCode = words.code !== undefined ? clean(c, words.code, 100) : undefined;
  const detail = serverMessage || clean(c, res.body, 200) || `HTTP ${res.status}`;
  return new ApiError(redact(`${what}: ${res.status} ${detail}`, c.secrets), {
    code,
    status: res.status,
    ...(serverCode !== undefined ? { serverCode } : {}),
    ...(serverMessage !== undefined ? { serverMessage } : {}),
  });
}

/** The refusal of the account in `res`, if it is one: the run stops sending new work. */
function refusalOf(c: Connection, res: RawResponse): ApiError | undefined {
  const words = serverWords(parseJson(res.body));
  const why = accountRefusal(res.status, words);
  if (why === undefined) return undefined;
  const seen = httpError(c, REFUSED[why].what, res, REFUSED[why].code);
  return new ApiError(seen.message, {
    code: REFUSED[why].code,
    exitCode: EXIT_CODES.accountRefused,
    fix: REFUSED[why].fix,
    status: res.status,
    ...(seen.serverCode !== undefined ? { serverCode: seen.serverCode } : {}),
    ...(seen.serverMessage !== undefined ? { serverMessage: seen.serverMessage } : {}),
  });
}

function transportError(c: Connection, what: string, err: TransportError, code: string) {
  return new ApiError(clean(c, `${what}: ${err.code ? `${err.code} ` : ''}${err.message}`), {
    code,
    cause: err,
  });
}

/** `POST /v1/videos`, retried only where no second task can come of it. */
async function submitVideo(
  c: Connection,
  body: VideoRequest,
  { idempotencyKey, signal, requeue }: SubmitOptions,
): Promise<SubmitResult> {
  const payload = JSON.stringify(body);
  const headers = {
    ...c.authHeaders,
    'content-type': 'application/json',
    'idempotency-key': idempotencyKey,
  };
  // Every wait between attempts ends with the signal; an attempt that waited sent nothing.
  const wait = async (ms: number) => {
    await c.sleep(ms, signal).catch(() => undefined);
    return !signal?.aborted;
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await c.gate.acquire(signal);
    } catch {
      return interruptedSubmit(false);
    }
    if (signal?.aborted) return interruptedSubmit(false);
    count(c, 'submit');
    let res: RawResponse;
    const inFlight = afterGrace(signal, c.submitGraceMs);
    try {
      res = await send(c, 'POST', `${c.prefix}/v1/videos`, {
        headers,
        body: payload,
        signal: inFlight.signal,
      });
    } catch (err) {
      const t = err instanceof TransportError ? err : new TransportError(err, true);
      if (t.aborted) return interruptedSubmit(t.sent);
      const verdict = classifyFailure({
        method: 'POST',
        sent: t.sent,
        ...(t.code ? { code: t.code } : {}),
      });
      if (verdict === 'retry' && attempt + 1 < c.attempts) {
        c.stats.retries++;
        if (await wait(backoffDelay(attempt, c.backoff))) continue;
        return interruptedSubmit(false);
      }
      const error = transportError(
        c,
        'submitting the shot failed',
        t,
        verdict === 'retry' ? 'unreachable' : 'submit_ambiguous',
      );
      // Unreachable after every retry: the server never saw it, so nothing was created.
      if (verdict === 'retry') return { kind: 'rejected', error };
      return { kind: 'unknown', error };
    } finally {
      inFlight.done();
    }
    if (res.status >= 200 && res.status < 300) return acceptedTask(c, res);
    const refused = refusalOf(c, res);
    if (refused) throw refused;
    const verdict = classifyFailure({ method: 'POST', status: res.status, sent: true });
    if (verdict === 'retry') {
      const retryAfter = retryAfterOf(c, res);
      // Requeued, the wait is the caller's: a cap on tasks says nothing against polls.
      if (requeue && res.status === 429) {
        const error = httpError(c, 'the API answered 429', res, 'rate_limited');
        return { kind: 'limited', error, retryAfterMs: retryAfter };
      }
      if (retryAfter !== undefined) c.gate.pause(retryAfter);
      if (attempt + 1 < c.attempts + 4) {
        // A 429 created nothing; waiting it out is always safe, so it gets extra attempts.
        c.stats.retries++;
        if (await wait(retryAfter ?? backoffDelay(attempt, c.backoff))) continue;
        return interruptedSubmit(false);
      }
      return {
        kind: 'rejected',
        error: httpError(c, 'the API kept answering 429', res, 'rate_limited'),
      };
    }
    if (verdict === 'ambiguous') {
      return {
        kind: 'unknown',
        error: httpError(c, 'the API failed while taking the shot', res, 'submit_ambiguous'),
      };
    }
    return { kind: 'rejected', error: httpError(c, 'the API rejected the shot', res, 'rejected') };
  }
}

/** A 2xx answer to a POST: a task, or (maybe billed) nothing usable. */
function acceptedTask(c: Connection, res: RawResponse): SubmitResult {
  const task = readVideoTask(parseJson(res.body), c.secrets);
  if (task && !isTaskProblem(task)) return { kind: 'created', task };
  const why = task ? task.problem : 'its answer has no task id';
  return {
    kind: 'unknown',
    error: new ApiError(
      `the API accepted the shot but ${why} (HTTP ${res.status}); nothing was stored`,
      { code: 'submit_ambiguous', status: res.status },
    ),
  };
}

/** `GET /v1/videos/{id}`, retried; a 404 or another refusal ends it at once. */
async function fetchTask(
  c: Connection,
  taskId: string,
  opts: { signal?: AbortSignal } = {},
): Promise<VideoTask> {
  if (!TASK_ID.test(taskId)) {
    // Only a tampered journal holds one: the client never accepts such an id from a server.
    throw new ApiError(
      `the task id "${clean(c, taskId, 60)}" is not 1-128 characters of A-Z a-z 0-9 _ . : -`,
      { code: 'task_not_found' },
    );
  }
  const path = `${c.prefix}/v1/videos/${encodeURIComponent(taskId)}`;
  let last: ApiError | undefined;
  let lastRetryAfter: number | undefined;
  for (let attempt = 0; attempt < c.attempts; attempt++) {
    if (attempt > 0) {
      c.stats.retries++;
      await c.sleep(lastRetryAfter ?? backoffDelay(attempt - 1, c.backoff), opts.signal);
    }
    await c.gate.acquire(opts.signal);
    count(c, 'poll');
    let res: RawResponse;
    try {
      res = await send(c, 'GET', path, { headers: c.authHeaders, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const t = err instanceof TransportError ? err : new TransportError(err, true);
      last = transportError(c, `checking task ${taskId} failed`, t, 'poll_failed');
      lastRetryAfter = undefined;
      continue;
    }
    if (res.status === 200) {
      const task = readVideoTask(parseJson(res.body), c.secrets);
      if (task && !isTaskProblem(task)) return task;
      last = new ApiError(
        `checking task ${taskId}: ${task ? task.problem : 'the answer is not a task'}`,
        { code: 'poll_failed', status: 200 },
      );
      lastRetryAfter = undefined;
      continue;
    }
    const refused = refusalOf(c, res);
    if (refused) throw refused;
    const verdict = classifyFailure({ method: 'GET', status: res.status, sent: true });
    if (verdict === 'reject') {
      throw httpError(
        c,
        `checking task ${taskId} failed`,
        res,
        res.status === 404 ? 'task_not_found' : 'poll_rejected',
      );
    }
    lastRetryAfter = retryAfterOf(c, res);
    if (lastRetryAfter !== undefined && res.status === 429) c.gate.pause(lastRetryAfter);
    last = httpError(c, `checking task ${taskId} failed`, res, 'poll_failed');
  }
  throw new RetryableApiError(last?.message ?? `checking task ${taskId} failed`, {
    code: 'poll_failed',
    ...(last?.status !== undefined ? { status: last.status } : {}),
    ...(lastRetryAfter !== undefined ? { retryAfterMs: lastRetryAfter } : {}),
    cause: last,
  });
}

/**
 * Creates the client. Refuses a plain-http base URL that is not loopback. Every string it
 * returns from a server (task fields, error codes and messages) is cleaned once here, with
 * {@link cleanServerText}: nothing downstream sees the key or a terminal escape from it.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const c = connect(options);
  return {
    baseUrl: c.baseUrl,
    submit: (body, opts) => submitVideo(c, body, opts),
    getTask: (taskId, opts) => fetchTask(c, taskId, opts),

    download(url, file, opts = {}) {
      return downloadFile(c.files, url, file, {
        attempts: c.attempts + 2,
        backoff: c.backoff,
        sleep: c.sleep,
        maxBytes: options.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES,
        deadlineMs: c.limits.downloadMs,
        minThroughput: { bytesPerSec: c.limits.minBytesPerSec, windowMs: c.limits.windowMs },
        ...opts,
        onRequest: () => count(c, 'download'),
      });
    },

    stats: () => ({ requests: { ...c.stats.requests }, retries: c.stats.retries }),

    async close() {
      await Promise.all([c.pool.close(), c.files.close()]);
    },
  };
}
