/**
 * The dependency graph of a run: a shot that takes a frame of another shot's clip starts once
 * that shot is done. It waits without holding a task slot, so independent shots keep the
 * run's concurrency; when an upstream shot does not end done, it is blocked, never sent.
 */
import { errorOf, say, type RunContext } from './context.js';
import { startResult, type ShotResult } from './result.js';
import type { AssessedShot } from './state.js';

/** What the render needs to know of the graph; the pipeline gives it (picks, frames, uploads). */
export interface ShotGraph {
  /** The shots of the run whose clips `shot` needs; undefined: it needs none and starts at once. */
  upstream: (shot: AssessedShot) => readonly AssessedShot[] | undefined;
  /**
   * The shot ready to send once its upstream shots are done: its frames cut from their clips
   * and uploaded, its body and journal key final, assessed against the journal.
   */
  ready: (shot: AssessedShot, upstream: readonly ShotResult[]) => Promise<AssessedShot>;
}

/** Why a shot is not sent: the first upstream shot that did not end done. */
function blockedBy(upstream: ShotResult): string {
  const why = upstream.error ? `: ${upstream.error.message}` : '';
  return `blocked: ${upstream.label} is ${upstream.status}${why}`;
}

/**
 * Runs `start` on the shot once every upstream shot is done (at once when it has none); ends
 * it `skipped` with the reason (code `blocked`) when one is not, or when the run stopped
 * sending meanwhile. A frame that cannot be cut or uploaded fails the shot, as data.
 */
export async function afterUpstream(
  run: RunContext,
  a: AssessedShot,
  graph: ShotGraph | undefined,
  resultOf: (upstream: AssessedShot) => Promise<ShotResult>,
  start: (ready: AssessedShot) => Promise<ShotResult>,
): Promise<ShotResult> {
  const upstream = graph?.upstream(a);
  if (!graph || upstream === undefined) return start(a);
  const results = await Promise.all(upstream.map(resultOf));
  const ctx = { ...run, shot: a };
  const bad = results.find((r) => r.status !== 'done');
  if (bad || run.submissions.aborted) {
    const result = startResult(a, 'skipped');
    const message = bad ? blockedBy(bad) : 'not started: the run stopped sending';
    result.error = { code: bad ? 'blocked' : 'interrupted', message };
    say(ctx, { type: 'skipped', reason: bad ? 'blocked' : 'interrupted', detail: message });
    return result;
  }
  let ready: AssessedShot;
  try {
    ready = await graph.ready(a, results);
  } catch (err) {
    const result = startResult(a, 'failed');
    result.error = errorOf(err, 'frame_failed');
    say(ctx, { type: 'failed', taskId: undefined, error: result.error });
    return result;
  }
  return start(ready);
}
