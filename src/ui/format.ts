import type { RenderEvent } from '../render/events.js';

/** `1.4 MB`, `820 kB`, `12 B`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(0)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** `850 ms`, `4.2 s`, `3 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export { formatMoney } from '../plan/money.js';

/** The one-line state of a shot after an event, as the task list and the plain log show it. */
export function describeEvent(e: RenderEvent): string {
  switch (e.type) {
    case 'queued':
      return e.resumed ? 'queued (resumes its task)' : 'queued';
    case 'cached':
      return `cached (${e.file})`;
    case 'submitting':
      return 'submitting';
    case 'submitted':
      return e.resumed ? `resumed task ${e.taskId}` : `submitted as ${e.taskId}`;
    case 'status':
      return e.status === 'in_progress' || e.status === 'queued'
        ? `${e.status.replace('_', ' ')}${e.progress !== undefined ? ` ${e.progress}%` : ''}`
        : e.status;
    case 'downloading':
      return `downloading ${formatBytes(e.bytes)}${e.total ? ` of ${formatBytes(e.total)}` : ''}`;
    case 'downloaded':
      return `downloaded ${formatBytes(e.bytes)}`;
    case 'done':
      return e.cached
        ? `done (cached) ${e.file}`
        : `done in ${formatDuration(e.elapsedMs)}: ${e.file}`;
    case 'failed':
      return `failed: ${e.error.code}: ${e.error.message}`;
    case 'unknown':
      return `unknown: ${e.error.message}`;
    case 'pending':
      return e.reason === 'deadline'
        ? `still running after the deadline; task ${e.taskId} kept for the next run`
        : `task ${e.taskId} journaled; the next run picks it up`;
    case 'skipped':
      if (e.reason === 'blocked') return e.detail ?? 'blocked';
      return e.reason === 'unknown'
        ? 'skipped: an earlier submission may have created a task (use --retry-unknown)'
        : 'not started (interrupted)';
    case 'limited':
      return `answered 429 (nothing created); sent again in ${formatDuration(e.waitMs)}`;
    case 'limit':
      return e.reason === 'rate_limited'
        ? `the API answered 429: concurrency cut to ${e.concurrency} of ${e.ceiling}`
        : `concurrency back up to ${e.concurrency} of ${e.ceiling}`;
    case 'account':
      return `account ${e.account} retired for the run (${e.reason}): ${e.message}; ${e.left === 0 ? 'no account left: nothing more is sent' : `${e.left} other${e.left === 1 ? '' : 's'} carry on`}`;
  }
}
