/**
 * What a worker makes of a job taken from the queue. Anyone who can write to the team's Redis
 * can add one, so nothing it carries is believed: its key must be the journal key of its own
 * body, take and this worker's API; the body must pass the rules `validate` applies; and what
 * the body costs in seconds (the team budget's unit) is read from the body, never from the
 * numbers the job carries beside it.
 */
import {
  checkRequest,
  effectiveSettings,
  requestMode,
  type VideoRequest,
} from '../api/contract.js';
import type { PlannedShot } from '../plan/types.js';
import type { ShotError } from '../render/events.js';
import { journalKey } from '../manifest/identity.js';
import { cleanRedisText } from './facts.js';
import type { ShotJob } from './queue.js';

/** A job checked: the shot rebuilt from its body, or why it is refused (nothing is sent). */
export type CheckedJob = { job: ShotJob } | { job: ShotJob; refused: ShotError };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const KEY = /^[0-9a-f]{64}$/;

/** The shot as the body itself says it: model, seconds, size and the rest; no price. */
function shotOfBody(raw: Record<string, unknown>, request: VideoRequest, take: number) {
  const settings = effectiveSettings(request);
  const shot: PlannedShot = {
    id: typeof raw.id === 'string' ? cleanRedisText(raw.id, 200) : 'job',
    variant: typeof raw.variant === 'string' ? cleanRedisText(raw.variant, 200) : null,
    take,
    mode: requestMode(request),
    model: request.model,
    ...settings,
    prompt: request.prompt ?? '',
    // A worker knows no prices: the team budget is counted in seconds.
    unit_price: null,
    cost: null,
    currency: null,
    request,
    source: { file: '', line: 0, col: 0 },
  };
  return shot;
}

const positive = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;

/** Why a job's body cannot be sent under its key, or undefined when it can. */
function problemOf(key: string, request: unknown, take: number, base: string) {
  if (!key) return 'a queued job without a journal key';
  if (!isObject(request)) return 'the queued job carries no request body';
  if (journalKey(request as unknown as VideoRequest, take, base) !== key)
    return `the queued job's body does not match its key ${key.slice(0, 12)} (another body, take or API than the shot's)`;
  const error = checkRequest(request).find((p) => p.severity === 'error');
  if (error)
    return `the queued job's body is not valid: ${error.path.join('.') || 'body'}: ${error.message}`;
  return undefined;
}

/**
 * Checks a job taken from the queue of `base` (the worker's API, as the journal keys hold
 * it). The job returned is rebuilt from the body; a refused one keeps only its key and a
 * cleaned label, so the refusal can be told to the enqueuer through the shot's facts.
 */
export function checkJob(data: unknown, base: string): CheckedJob {
  const raw = isObject(data) ? data : {};
  const key = typeof raw.key === 'string' && KEY.test(raw.key) ? raw.key : '';
  const label = typeof raw.label === 'string' ? cleanRedisText(raw.label, 200) : key.slice(0, 12);
  const gen = positive(raw.gen) ?? 1;
  const rawShot = isObject(raw.shot) ? raw.shot : {};
  const take = positive(rawShot.take) ?? 1;
  const problem = problemOf(key, rawShot.request, take, base);
  const body = (problem ? {} : rawShot.request) as VideoRequest;
  const job = { key, gen, label, base, shot: shotOfBody(rawShot, body, take) };
  if (!problem) return { job };
  // The rules quote the body's values: cleaned like anything else read from Redis.
  return {
    job,
    refused: { code: 'job_refused', message: cleanRedisText(`${problem}; nothing was sent`, 500) },
  };
}
