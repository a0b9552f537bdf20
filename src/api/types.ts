/** A task's state as the API reports it. */
export type TaskStatus = 'queued' | 'in_progress' | 'completed' | 'failed';

/** The task object returned by `POST /v1/videos` and `GET /v1/videos/{task_id}`. */
export interface VideoTask {
  id: string;
  object?: string;
  model?: string;
  status: TaskStatus;
  progress?: number;
  /** Unix seconds. */
  created_at?: number;
  /** Unix seconds. */
  completed_at?: number;
  metadata?: { url?: string; [key: string]: unknown };
  error?: { message?: string; code?: string };
}

const STATUSES = new Set<string>(['queued', 'in_progress', 'completed', 'failed']);

/** Reads a task object from a parsed response; undefined when it does not look like one. */
export function asVideoTask(value: unknown): VideoTask | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' || v.id === '') return undefined;
  // The reference maps upstream states itself, but a lenient reading costs nothing.
  const raw = typeof v.status === 'string' ? v.status : '';
  const status = raw === 'processing' ? 'in_progress' : raw === 'succeeded' ? 'completed' : raw;
  if (!STATUSES.has(status)) return undefined;
  return { ...(v as unknown as VideoTask), status: status as TaskStatus };
}
