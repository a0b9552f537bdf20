/**
 * What to do after a request failed: the rules that keep a retried POST from billing twice.
 * Pure, so every fault shape is tested without a network.
 */

/** How one failed attempt is handled. */
export type FailureVerdict =
  /** Try again after a delay: the server certainly did nothing, or the request is safe to repeat. */
  | 'retry'
  /** A POST that may or may not have created a task: never repeat it on our own. */
  | 'ambiguous'
  /** The server refused this request for good (400, 404, 422...): the shot fails. */
  | 'reject'
  /** The key is wrong or not allowed (401, 403): the whole run stops. */
  | 'auth';

/** One failed attempt, as the client saw it. */
export interface FailedAttempt {
  method: 'GET' | 'POST';
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Whether the request was fully written to the socket before the failure. */
  sent: boolean;
  /** A transport error code (`ECONNREFUSED`, `UND_ERR_SOCKET`...), when no response arrived. */
  code?: string;
}

/** Why the API refused the account: the key itself, or the quota behind it. */
export type AccountRefusal = 'key' | 'quota';

// Gateways word a spent balance in many ways: OpenAI-style `insufficient_quota`, new-api's
// `insufficient_user_quota`, a Chinese "额度不足", or a plain "quota"/"balance"/"credit".
const QUOTA_WORDS = /quota|balance|credit|billing|额度|余额/i;

/**
 * Whether an answer refuses the account, and why: 401 and 403 are about the account, and the
 * server's own code or message tells a spent quota from a refused key. A 429 whose code says
 * the quota is spent (OpenAI's `insufficient_quota`) is no rate limit: waiting will not help.
 */
export function accountRefusal(
  status: number,
  server: { code?: string | undefined; message?: string | undefined },
): AccountRefusal | undefined {
  const quota = QUOTA_WORDS.test(`${server.code ?? ''} ${server.message ?? ''}`);
  if (status === 401 || status === 403) return quota ? 'quota' : 'key';
  if (status === 429 && /quota/i.test(server.code ?? '')) return 'quota';
  return undefined;
}

/** Error codes that mean the connection never carried the request. */
const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Decides whether a failed attempt may be repeated. */
export function classifyFailure(attempt: FailedAttempt): FailureVerdict {
  const { status } = attempt;
  if (status !== undefined) {
    if (status === 401 || status === 403) return 'auth';
    // A 429 is the one answer that says for certain nothing was created.
    if (status === 429) return 'retry';
    if (status === 408 && attempt.method === 'GET') return 'retry';
    if (status >= 500) return attempt.method === 'GET' ? 'retry' : 'ambiguous';
    return 'reject';
  }
  if (attempt.method === 'GET') return 'retry';
  if (!attempt.sent) return 'retry';
  if (attempt.code !== undefined && NEVER_CONNECTED.has(attempt.code)) return 'retry';
  return 'ambiguous';
}

export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  baseMs: number;
  /** Longest delay, in ms. */
  maxMs: number;
  /** A number in [0, 1); `Math.random` in production, fixed in tests. */
  random: () => number;
}

/**
 * Exponential backoff with full jitter: a delay drawn from [0, min(max, base * 2^attempt)],
 * never below a tenth of that ceiling so retries do not hammer a struggling server.
 * `attempt` counts from 0 for the first retry.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
  const floor = ceiling / 10;
  return Math.round(floor + (ceiling - floor) * options.random());
}

/** The longest `Retry-After` obeyed by default: a server asking for an hour gets a minute. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/**
 * Reads a `Retry-After` header (seconds or an HTTP date) as milliseconds from `now`, at most
 * `maxMs` (a server may not park a run for as long as it likes).
 * Returns undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(
  value: string | undefined,
  now: number,
  maxMs = DEFAULT_MAX_RETRY_AFTER_MS,
): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.round(Number(text) * 1000);
  else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.min(maxMs, Math.max(0, ms));
}
