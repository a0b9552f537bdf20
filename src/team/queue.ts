/**
 * The team's queue of shots to submit (`shotlist enqueue` adds, `run --worker` takes), on
 * BullMQ: a job's id is the shot's journal key, so enqueueing a manifest twice adds nothing,
 * and a job whose worker died (its lock not renewed) goes back to the queue for another.
 * Whether a shot is sent, and by whom, is still decided by the claim in the shared facts
 * (board.ts): a job is only "somebody should see to this shot". `bullmq` is imported here,
 * lazily, and this module only under `--team`.
 */
import { createHash } from 'node:crypto';
import type { PlannedShot } from '../plan/types.js';
import { DEFAULT_LEASE_MS } from './board.js';

/** What a worker needs to submit a shot without the enqueuer's folder: the ready body. */
export interface ShotJob {
  key: string;
  /** The generation the enqueuer's journal gives the next submission (re-renders: 2, 3...). */
  gen: number;
  label: string;
  /** The API base URL the journal key was made with: workers on another API never see it. */
  base: string;
  /** The planned shot, its request body final (uploads and frames resolved). */
  shot: PlannedShot;
}

/** A failed attempt (a worker stopping before the shot was decided) is retried after this. */
const RETRY_MS = 1_000;

/** One queue per API base URL: a worker takes only shots whose key was made for its API. */
export function queueName(base: string): string {
  return `shots-${createHash('sha256').update(base).digest('hex').slice(0, 16)}`;
}

const connection = (url: URL) => ({ url: url.href, maxRetriesPerRequest: null });
const PREFIX = 'shotlist-queue';

/** The enqueuer's side of the queue. */
export interface ShotQueue {
  add(jobs: readonly ShotJob[]): Promise<void>;
  close(): Promise<void>;
}

export async function openShotQueue(url: URL, base: string): Promise<ShotQueue> {
  const { Queue } = await import('bullmq');
  const queue = new Queue<ShotJob>(queueName(base), {
    connection: connection(url),
    prefix: PREFIX,
  });
  queue.on('error', () => undefined);
  return {
    async add(jobs) {
      if (jobs.length === 0) return;
      await queue.addBulk(
        jobs.map((data) => ({
          name: 'shot',
          data,
          opts: {
            jobId: data.key,
            // Only a worker that stopped before the shot was decided fails a job: try again.
            attempts: Number.MAX_SAFE_INTEGER,
            backoff: { type: 'fixed', delay: RETRY_MS },
            removeOnComplete: true,
            removeOnFail: true,
          },
        })),
      );
    },
    close: () => queue.close(),
  };
}

/** A worker taking jobs; `close()` lets the jobs it is working on end first. */
export interface ShotWorker {
  close(): Promise<void>;
}

/**
 * Takes jobs of the queue of `base`, `concurrency` at once, each through `work`; a job whose
 * `work` throws goes back to the queue. A job held by a worker gone silent for a lease is
 * handed to another (the claim in the facts has run out by then too).
 */
export async function startShotWorker(
  url: URL,
  base: string,
  concurrency: number,
  work: (job: ShotJob) => Promise<void>,
): Promise<ShotWorker> {
  const { Worker } = await import('bullmq');
  const worker = new Worker<ShotJob>(queueName(base), (job) => work(job.data), {
    connection: connection(url),
    prefix: PREFIX,
    concurrency,
    lockDuration: DEFAULT_LEASE_MS,
    stalledInterval: DEFAULT_LEASE_MS / 2,
    maxStalledCount: Number.MAX_SAFE_INTEGER,
  });
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}
