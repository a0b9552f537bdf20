import { createHash } from 'node:crypto';
import { effectiveSettings, type VideoRequest } from '../api/contract.js';
import type { TaskStatus } from '../api/types.js';
import type { KeptBody } from './kept.js';
import type { LatencyRange } from './options.js';
import { taskId, type Random } from './random.js';

export interface TaskError {
  message: string;
  code: string;
}

/** The task object of `GET /v1/videos/{task_id}`, shaped as the reference shows it. */
export interface TaskObject {
  id: string;
  object: 'video';
  model: string;
  status: TaskStatus;
  progress: number;
  created_at: number;
  completed_at?: number;
  metadata?: { url: string };
  error?: TaskError;
  /** Completed tasks: the seconds billed, and the same as a gateway's `usage`. */
  seconds?: number;
  usage?: { video_seconds: number };
}

/** One accepted submission, as the simulator keeps it. */
export interface SimTask {
  id: string;
  /** The body, or its essentials when it was large (see `keepBody`). */
  body: VideoRequest;
  bodySha256: string;
  bodyBytes: number;
  bodyTrimmed: boolean;
  receivedAt: number;
  idempotencyKey: string | null;
  /** Set when the task was created although the client was answered with a fault. */
  fault: '500' | 'reset' | undefined;
  /** The account that sent it (a digest of its key, see `accountOf`); absent in older state. */
  account?: string;
  latencyMs: number;
  outcome: 'completed' | 'failed';
  error: TaskError | undefined;
  /** When its clock started: submission, or later when a slot of `maxConcurrent` freed. */
  startAt: number | undefined;
  endAt: number | undefined;
}

// The upstream moderation reasons a real task fails with; all map to content_filter.
const FAILURES: readonly TaskError[] = [
  { message: 'content policy violation', code: 'content_filter' },
  { message: 'the prompt was flagged by the content safety system', code: 'content_filter' },
  {
    message: 'the generated video was flagged by the content safety system',
    code: 'content_filter',
  },
  { message: 'a reference asset did not pass content review', code: 'content_filter' },
];

/** Share of a task's latency spent `queued` (progress rising 0..20) before `in_progress`. */
const QUEUED_SHARE = 0.3;

export interface TaskBoardOptions {
  latency: LatencyRange;
  failRate: number;
  maxConcurrent: number;
  /** Draws for latency and outcome. */
  random: Random;
  /** Draws for ids. */
  idRandom: Random;
}

/** A URL of an asset named by its content (`.../assets/<sha256>.<ext>`, the simulator's own). */
const CONTENT_ASSET = /https?:\/\/[^/"\s]+\/assets\/([0-9a-f]{64}(?:\.[a-z0-9]{1,8})?)(?=")/g;

/**
 * What makes two bodies the same render: the body, with the origin of content-addressed asset
 * URLs left out. A simulator's own asset address carries its port, which changes each time it
 * starts; the same bytes under another port are the same request, so a later take of it is
 * still the next render, not the first again.
 */
export function renderIdentity(body: unknown): string {
  const text = JSON.stringify(body).replace(CONTENT_ASSET, 'asset:$1');
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Every task and its lifecycle. Status is computed from timestamps when asked, so no timer
 * runs per task; only the `maxConcurrent` queue needs replaying in time order (`advance`).
 */
export class TaskBoard {
  readonly tasks = new Map<string, SimTask>();
  private readonly running: SimTask[] = [];
  private readonly waiting: SimTask[] = [];
  /** Per body, the variation of each Idempotency-Key in the order they were first seen. */
  private readonly variations = new Map<string, Map<string, number>>();

  constructor(private readonly options: TaskBoardOptions) {}

  /**
   * Which render of its body a task is (1 = the first). Another take of the same body comes
   * with another Idempotency-Key and gets the next number; a retry with the same key (or a
   * task without one) shares the render it repeats. Derived from the tasks, in the order they
   * were received, so a restarted simulator draws the same clips.
   */
  variation(task: SimTask): number {
    if (task.idempotencyKey === null) return 1;
    const body = renderIdentity(task.body);
    let keys = this.variations.get(body);
    if (!keys) this.variations.set(body, (keys = new Map()));
    let n = keys.get(task.idempotencyKey);
    if (n === undefined) keys.set(task.idempotencyKey, (n = keys.size + 1));
    return n;
  }

  /** Accepts a valid body at time `now` (ms) and decides, up front, how the task will end. */
  submit(
    kept: KeptBody,
    now: number,
    extra: { idempotencyKey: string | null; fault?: '500' | 'reset'; account?: string },
  ): SimTask {
    this.advance(now);
    const { latency, failRate, random, idRandom } = this.options;
    let id = taskId(idRandom);
    while (this.tasks.has(id)) id = taskId(idRandom);
    const latencyMs = Math.round((latency.min + random() * (latency.max - latency.min)) * 1000);
    const failed = random() < failRate;
    const task: SimTask = {
      id,
      body: kept.body,
      bodySha256: kept.sha256,
      bodyBytes: kept.bytes,
      bodyTrimmed: kept.trimmed,
      receivedAt: now,
      idempotencyKey: extra.idempotencyKey,
      fault: extra.fault,
      ...(extra.account !== undefined ? { account: extra.account } : {}),
      latencyMs,
      outcome: failed ? 'failed' : 'completed',
      error: failed ? FAILURES[Math.floor(random() * FAILURES.length)] : undefined,
      startAt: undefined,
      endAt: undefined,
    };
    this.tasks.set(id, task);
    this.variation(task);
    if (this.running.length < this.options.maxConcurrent) this.start(task, now);
    else this.waiting.push(task);
    return task;
  }

  /**
   * Takes back the tasks of an earlier process, replaying their submissions in time order:
   * a task that started at submission keeps its times, one that waited for a slot gets the
   * slot it would have had, so every task continues the timeline it began.
   */
  restore(tasks: readonly SimTask[]): void {
    const ordered = [...tasks].sort((a, b) => a.receivedAt - b.receivedAt);
    for (const task of ordered) {
      if (this.tasks.has(task.id)) continue;
      this.advance(task.receivedAt);
      this.tasks.set(task.id, task);
      this.variation(task);
      if (task.startAt !== undefined && task.endAt !== undefined) this.running.push(task);
      else this.waiting.push(task);
    }
  }

  private start(task: SimTask, at: number): void {
    task.startAt = at;
    task.endAt = at + task.latencyMs;
    this.running.push(task);
  }

  /**
   * Replays the queue up to `now`: each slot that freed starts the next waiting task at the
   * moment it freed, so results do not depend on how often anyone polls.
   */
  advance(now: number): void {
    for (;;) {
      if (this.waiting.length === 0) {
        for (let i = this.running.length - 1; i >= 0; i--) {
          if ((this.running[i]?.endAt ?? Infinity) <= now) this.running.splice(i, 1);
        }
        return;
      }
      let first = -1;
      let firstEnd = Infinity;
      this.running.forEach((task, i) => {
        if ((task.endAt ?? Infinity) < firstEnd) {
          firstEnd = task.endAt ?? Infinity;
          first = i;
        }
      });
      if (first < 0 || firstEnd > now) return;
      this.running.splice(first, 1);
      const next = this.waiting.shift();
      if (next) this.start(next, firstEnd);
    }
  }

  /** The earliest time (ms) a running task ends, for waking up to send webhooks. */
  nextEnd(): number | undefined {
    let min: number | undefined;
    for (const task of this.running) {
      if (task.endAt !== undefined && (min === undefined || task.endAt < min)) min = task.endAt;
    }
    return min;
  }

  /** Whether the task has ended by `now` (call `advance(now)` first). */
  static ended(task: SimTask, now: number): boolean {
    return task.endAt !== undefined && now >= task.endAt;
  }

  /** The task object at `now` (call `advance(now)` first). */
  static view(task: SimTask, now: number, fileUrl: (task: SimTask) => string): TaskObject {
    const head = {
      id: task.id,
      object: 'video' as const,
      model: task.body.model,
      created_at: Math.floor(task.receivedAt / 1000),
    };
    if (task.startAt === undefined || task.endAt === undefined) {
      return { ...head, status: 'queued', progress: 0 };
    }
    if (now >= task.endAt) {
      if (task.outcome === 'failed' && task.error) {
        return { ...head, status: 'failed', progress: 100, error: { ...task.error } };
      }
      return {
        ...head,
        status: 'completed',
        progress: 100,
        completed_at: Math.floor(task.endAt / 1000),
        metadata: { url: fileUrl(task) },
      };
    }
    const queuedFor = task.latencyMs * QUEUED_SHARE;
    const elapsed = now - task.startAt;
    if (elapsed < queuedFor) {
      return {
        ...head,
        status: 'queued',
        progress: Math.min(20, Math.floor((20 * elapsed) / queuedFor)),
      };
    }
    return { ...head, status: 'in_progress', progress: 30 };
  }
}

/** The seconds a submission bills when it completes: its duration, or the API's default. */
export function billableSeconds(body: VideoRequest): number {
  return effectiveSettings(body).seconds;
}
