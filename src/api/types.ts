import { cleanServerText } from './redact.js';

/** A task's state as the API reports it. */
export type TaskStatus = 'queued' | 'in_progress' | 'completed' | 'failed';

/**
 * The task object returned by `POST /v1/videos` and `GET /v1/videos/{task_id}`, as the
 * client hands it on: every string in it cleaned (see {@link readVideoTask}).
 */
export interface VideoTask {
  id: string;
  object?: string;
  model?: string;
  status: TaskStatus;
  progress?: number;
  /** Billed seconds, when the server says (some gateways send it as a string). */
  seconds?: number;
  /** Unix seconds. */
  created_at?: number;
  /** Unix seconds. */
  completed_at?: number;
  metadata?: { url?: string };
  error?: { message?: string; code?: string };
  /** What the server says the task used (numbers by name, e.g. `{ "video_seconds": 5 }`), when it says. */
  usage?: Record<string, number>;
}

const STATUSES = new Set<string>(['queued', 'in_progress', 'completed', 'failed']);
// The reference maps upstream states itself, but gateways have been seen passing them on.
const UPSTREAM_STATUS: Record<string, TaskStatus> = {
  processing: 'in_progress',
  succeeded: 'completed',
};

/** A task id the client accepts: it names files, journal lines and URL paths. */
export const TASK_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Longest `metadata.url` accepted. */
const MAX_URL_LENGTH = 4096;

/** Why an answer is not a usable task, in words for an error message. */
export type TaskProblem = { problem: string };

/** The numeric fields of a `usage` object (at most 20, names cut to 60), or undefined. */
function usageOf(value: unknown): Record<string, number> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const usage: Record<string, number> = {};
  for (const [name, raw] of Object.entries(value as Record<string, unknown>).slice(0, 20)) {
    const n = numeric(raw);
    if (n !== undefined && /^[\w.-]{1,60}$/.test(name)) usage[name] = n;
  }
  return Object.keys(usage).length > 0 ? usage : undefined;
}

function numeric(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function text(value: unknown, secrets: readonly string[], max: number): string | undefined {
  return typeof value === 'string' ? cleanServerText(value, secrets, max) : undefined;
}

/** An http(s) URL of sane length, else undefined: the file must come from a web server. */
function checkResultUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a task object from a parsed response and rebuilds it from the fields shotlist uses,
 * each cleaned: strings stripped of control characters and terminal escapes with `secrets`
 * redacted, the id checked against {@link TASK_ID}, `metadata.url` kept only when it is an
 * http(s) URL. Undefined when the value does not look like a task at all.
 */
export function readVideoTask(
  value: unknown,
  secrets: readonly string[],
): VideoTask | TaskProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  // Some gateways name the id `task_id` (the path parameter's name).
  const rawId = typeof v.id === 'string' && v.id !== '' ? v.id : v.task_id;
  if (typeof rawId !== 'string' || rawId === '') return undefined;
  const raw = typeof v.status === 'string' ? v.status : '';
  const status = UPSTREAM_STATUS[raw] ?? raw;
  if (!STATUSES.has(status)) return undefined;
  if (!TASK_ID.test(rawId)) {
    return {
      problem: `the task id "${cleanServerText(rawId, secrets, 60)}" is not 1-128 characters of A-Z a-z 0-9 _ . : -`,
    };
  }
  const task: VideoTask = { id: rawId, status: status as TaskStatus };
  const object = text(v.object, secrets, 100);
  if (object !== undefined) task.object = object;
  const model = text(v.model, secrets, 100);
  if (model !== undefined) task.model = model;
  for (const field of ['progress', 'seconds', 'created_at', 'completed_at'] as const) {
    const n = numeric(v[field]);
    if (n !== undefined) task[field] = n;
  }
  const usage = usageOf(v.usage);
  if (usage) task.usage = usage;
  const meta = v.metadata;
  if (typeof meta === 'object' && meta !== null) {
    const url = checkResultUrl((meta as Record<string, unknown>).url);
    // A URL carrying the key is not fetched: redaction would only break it.
    task.metadata =
      url !== undefined && cleanServerText(url, secrets, MAX_URL_LENGTH) === url ? { url } : {};
  }
  const err = v.error;
  if (typeof err === 'object' && err !== null) {
    const e = err as Record<string, unknown>;
    const message = text(e.message, secrets, 1000);
    const code = text(e.code, secrets, 100);
    task.error = {
      ...(message !== undefined ? { message } : {}),
      ...(code !== undefined ? { code } : {}),
    };
  } else if (typeof err === 'string') {
    task.error = { message: cleanServerText(err, secrets, 1000) };
  }
  return task;
}

/** Whether {@link readVideoTask} refused the answer, and why. */
export function isTaskProblem(value: VideoTask | TaskProblem | undefined): value is TaskProblem {
  return value !== undefined && 'problem' in value;
}
