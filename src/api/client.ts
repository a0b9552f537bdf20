/**
 * The one HTTP wrapper of the Seedance API: it owns the base URL, the key, timeouts, retries
 * and redaction. The public methods say what happened in words the renderer can act on;
 * a POST is repeated only when the server certainly created nothing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, Pool, type Dispatcher } from 'undici';
import { ApiError, EXIT_CODES } from '../errors.js';
import type { VideoRequest } from '../plan/contract.js';
import { downloadFile, type DownloadOptions, type DownloadResult } from './download.js';
import { OPEN_GATE, type RequestGate } from './gate.js';
import { redact } from './redact.js';
import { backoffDelay, classifyFailure, parseRetryAfter } from './retry.js';
import { asVideoTask, type VideoTask } from './types.js';
import { checkBaseUrl } from './url.js';

/** What a request was for; counted in `stats()`. */
export type RequestKind = 'submit' | 'poll' | 'download';

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Sockets kept to the API host. Default 32. */
  connections?: number;
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
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
}

/** 2 GiB: far above any clip the API makes, low enough to stop a runaway download. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 2 * 1024 ** 3;

/** How a submission ended. Only `created` carries a task; the others explain why not. */
export type SubmitResult =
  | { kind: 'created'; task: VideoTask }
  /** The server refused the body (400, 422...): no task exists. */
  | { kind: 'rejected'; error: ApiError }
  /** The server may or may not have created a task (5xx, timeout or reset after sending). */
  | { kind: 'unknown'; error: ApiError };

export interface ClientStats {
  requests: Record<RequestKind, number>;
  retries: number;
}

export interface ApiClient {
  /** The base URL, normalised (no trailing slash). */
  readonly baseUrl: string;
  /** `POST /v1/videos`. Throws an ApiError only for 401/403 (the run must stop). */
  submit(body: VideoRequest, options: { idempotencyKey: string }): Promise<SubmitResult>;
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

/** A request that got no complete answer; `sent` says whether it left this machine. */
class TransportError extends Error {
  readonly sent: boolean;
  readonly code: string | undefined;
  constructor(cause: unknown, sent: boolean) {
    const err = cause as { message?: string; code?: string };
    super(err?.message ?? String(cause), { cause });
    this.sent = sent;
    this.code = err?.code;
  }
}

const MAX_JSON_BYTES = 1 << 20;

/**
 * Sends one request through the pool with a hand-written handler, because only the handler
 * learns whether the request was written to the socket: the line between a POST that may be
 * repeated and one that may have created a task.
 */
function exchange(
  dispatcher: Dispatcher,
  options: { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string },
  signal?: AbortSignal,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let sent = false;
    let status = 0;
    let size = 0;
    const headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    let abort: ((reason?: Error) => void) | undefined;
    const onAbort = () => abort?.(signal?.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    const handler: Dispatcher.DispatchHandler & { onRequestSent(): void } = {
      onConnect(abortFn) {
        abort = abortFn;
        if (signal?.aborted) abortFn(signal.reason as Error);
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
        done();
        resolve({ status, headers, body: Buffer.concat(chunks).toString('utf8') });
      },
      onError(err) {
        done();
        if (signal?.aborted) reject(signal.reason);
        else reject(new TransportError(err, sent));
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

/** The server's own words from an error body (`{error:{message,code}}` or `{message}`). */
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

/** Creates the client. Refuses a plain-http base URL that is not loopback. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = checkBaseUrl(options.baseUrl);
  const baseUrl = base.toString().replace(/\/+$/, '');
  const prefix = base.pathname.replace(/\/+$/, '');
  const secrets = [options.apiKey];
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const gate = options.gate ?? OPEN_GATE;
  const attempts = Math.max(1, options.attempts ?? 4);
  const backoff = {
    baseMs: options.backoff?.baseMs ?? 500,
    maxMs: options.backoff?.maxMs ?? 20_000,
    random,
  };
  const timeouts = {
    connect: options.timeouts?.connectMs ?? 10_000,
    headers: options.timeouts?.headersMs ?? 30_000,
    body: options.timeouts?.bodyMs ?? 30_000,
  };
  const pool = new Pool(base.origin, {
    connections: options.connections ?? 32,
    connectTimeout: timeouts.connect,
    headersTimeout: timeouts.headers,
    bodyTimeout: timeouts.body,
    keepAliveTimeout: 4_000,
  });
  // Files live on another origin: a separate dispatcher that is never given the key.
  const files = new Agent({
    connections: 16,
    connectTimeout: timeouts.connect,
    headersTimeout: timeouts.headers,
    bodyTimeout: timeouts.body,
  });
  const stats: ClientStats = { requests: { submit: 0, poll: 0, download: 0 }, retries: 0 };
  const count = (kind: RequestKind) => {
    stats.requests[kind]++;
    options.onRequest?.(kind);
  };
  const clean = (text: string) => redact(text, secrets);
  const authHeaders = { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' };

  const httpError = (what: string, res: RawResponse, code: string): ApiError => {
    const words = serverWords(parseJson(res.body));
    const serverMessage = words.message !== undefined ? clean(words.message) : undefined;
    const detail = serverMessage ?? (res.body.trim().slice(0, 200) || `HTTP ${res.status}`);
    const auth = res.status === 401 || res.status === 403;
    return new ApiError(clean(`${what}: ${res.status} ${detail}`), {
      code: auth ? 'unauthorized' : code,
      exitCode: auth ? EXIT_CODES.badInput : EXIT_CODES.shotsFailed,
      status: res.status,
      ...(words.code !== undefined ? { serverCode: words.code } : {}),
      ...(serverMessage !== undefined ? { serverMessage } : {}),
      ...(auth
        ? {
            fix: 'check the key in SHOTLIST_API_KEY (or API_KEY, or .env) and that it may use this API',
          }
        : {}),
    });
  };

  const transportError = (what: string, err: TransportError, code: string) =>
    new ApiError(clean(`${what}: ${err.code ? `${err.code} ` : ''}${err.message}`), {
      code,
      cause: err,
    });

  return {
    baseUrl,

    async submit(body, { idempotencyKey }) {
      const payload = JSON.stringify(body);
      const headers = {
        ...authHeaders,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
      };
      for (let attempt = 0; ; attempt++) {
        await gate.acquire();
        count('submit');
        let res: RawResponse;
        let retryAfter: number | undefined;
        try {
          res = await exchange(pool, {
            method: 'POST',
            path: `${prefix}/v1/videos`,
            headers,
            body: payload,
          });
        } catch (err) {
          const t = err instanceof TransportError ? err : new TransportError(err, true);
          const verdict = classifyFailure({
            method: 'POST',
            sent: t.sent,
            ...(t.code ? { code: t.code } : {}),
          });
          if (verdict === 'retry' && attempt + 1 < attempts) {
            stats.retries++;
            await sleep(backoffDelay(attempt, backoff));
            continue;
          }
          const error = transportError(
            'submitting the shot failed',
            t,
            verdict === 'retry' ? 'unreachable' : 'submit_ambiguous',
          );
          // Unreachable after every retry: the server never saw it, so nothing was created.
          if (verdict === 'retry') return { kind: 'rejected', error };
          return { kind: 'unknown', error };
        }
        if (res.status >= 200 && res.status < 300) {
          const task = asVideoTask(parseJson(res.body));
          if (task) return { kind: 'created', task };
          return {
            kind: 'unknown',
            error: new ApiError(
              `the API accepted the shot but its answer has no task id (HTTP ${res.status})`,
              {
                code: 'submit_ambiguous',
                status: res.status,
              },
            ),
          };
        }
        const verdict = classifyFailure({ method: 'POST', status: res.status, sent: true });
        if (verdict === 'auth') throw httpError('the API refused the key', res, 'unauthorized');
        if (verdict === 'retry') {
          retryAfter = parseRetryAfter(res.headers['retry-after'], now());
          if (retryAfter !== undefined) gate.pause(retryAfter);
          if (attempt + 1 < attempts + 4) {
            // A 429 created nothing; waiting it out is always safe, so it gets extra attempts.
            stats.retries++;
            await sleep(retryAfter ?? backoffDelay(attempt, backoff));
            continue;
          }
          return {
            kind: 'rejected',
            error: httpError('the API kept answering 429', res, 'rate_limited'),
          };
        }
        if (verdict === 'ambiguous') {
          return {
            kind: 'unknown',
            error: httpError('the API failed while taking the shot', res, 'submit_ambiguous'),
          };
        }
        return { kind: 'rejected', error: httpError('the API rejected the shot', res, 'rejected') };
      }
    },

    async getTask(taskId, opts = {}) {
      const path = `${prefix}/v1/videos/${encodeURIComponent(taskId)}`;
      let last: ApiError | undefined;
      let lastRetryAfter: number | undefined;
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) {
          stats.retries++;
          await sleep(lastRetryAfter ?? backoffDelay(attempt - 1, backoff), opts.signal);
        }
        await gate.acquire(opts.signal);
        count('poll');
        let res: RawResponse;
        try {
          res = await exchange(pool, { method: 'GET', path, headers: authHeaders }, opts.signal);
        } catch (err) {
          if (opts.signal?.aborted) throw err;
          const t = err instanceof TransportError ? err : new TransportError(err, true);
          last = transportError(`checking task ${taskId} failed`, t, 'poll_failed');
          lastRetryAfter = undefined;
          continue;
        }
        if (res.status === 200) {
          const task = asVideoTask(parseJson(res.body));
          if (task) return task;
          last = new ApiError(`checking task ${taskId}: the answer is not a task`, {
            code: 'poll_failed',
            status: 200,
          });
          lastRetryAfter = undefined;
          continue;
        }
        const verdict = classifyFailure({ method: 'GET', status: res.status, sent: true });
        if (verdict === 'auth') throw httpError('the API refused the key', res, 'unauthorized');
        if (verdict === 'reject') {
          throw httpError(
            `checking task ${taskId} failed`,
            res,
            res.status === 404 ? 'task_not_found' : 'poll_rejected',
          );
        }
        lastRetryAfter = parseRetryAfter(res.headers['retry-after'], now());
        if (lastRetryAfter !== undefined && res.status === 429) gate.pause(lastRetryAfter);
        last = httpError(`checking task ${taskId} failed`, res, 'poll_failed');
      }
      throw new RetryableApiError(last?.message ?? `checking task ${taskId} failed`, {
        code: 'poll_failed',
        ...(last?.status !== undefined ? { status: last.status } : {}),
        ...(lastRetryAfter !== undefined ? { retryAfterMs: lastRetryAfter } : {}),
        cause: last,
      });
    },

    download(url, file, opts = {}) {
      return downloadFile(files, url, file, {
        attempts: attempts + 2,
        backoff,
        sleep,
        maxBytes: options.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES,
        ...opts,
        onRequest: () => count('download'),
      });
    },

    stats: () => ({ requests: { ...stats.requests }, retries: stats.retries }),

    async close() {
      await Promise.all([pool.close(), files.close()]);
    },
  };
}
