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

/**
 * The length of the longest chain each shot starts: itself and its longest line of
 * dependents (1 for a shot nothing waits on). A shot with more links after it goes first, so
 * the chain that decides when the run ends is never left queued behind shots that end sooner.
 */
export function chainLengths(
  shots: readonly AssessedShot[],
  graph: ShotGraph | undefined,
): Map<AssessedShot, number> {
  const dependents = new Map<AssessedShot, AssessedShot[]>();
  for (const a of shots) {
    for (const up of graph?.upstream(a) ?? []) {
      const list = dependents.get(up) ?? [];
      list.push(a);
      dependents.set(up, list);
    }
  }
  const lengths = new Map<AssessedShot, number>();
  // Iterative, deepest first: a chain of thousands of links must not overflow the stack.
  const lengthOf = (start: AssessedShot): number => {
    const stack: AssessedShot[] = [start];
    while (stack.length > 0) {
      const a = stack[stack.length - 1]!;
      const next = (dependents.get(a) ?? []).filter((d) => !lengths.has(d));
      if (next.length > 0) {
        stack.push(...next);
        continue;
      }
      stack.pop();
      const below = (dependents.get(a) ?? []).map((d) => lengths.get(d) ?? 0);
      lengths.set(a, 1 + Math.max(0, ...below));
    }
    return lengths.get(start)!;
  };
  for (const a of shots) if (!lengths.has(a)) lengthOf(a);
  return lengths;
}

/** Runs `fn` in a slot once one is free and no waiting shot ranks higher. */
export type RankedLimit = <T>(fn: () => Promise<T>, rank: number) => Promise<T>;

/**
 * A bounded set of slots whose queue is ordered by rank (highest first), then by arrival: a
 * dependent that becomes ready late still overtakes shots with shorter chains after them.
 */
export function rankedLimit(concurrency: number): RankedLimit {
  let active = 0;
  let arrivals = 0;
  const waiting: { rank: number; seq: number; start: () => void }[] = [];
  const pump = () => {
    while (active < concurrency && waiting.length > 0) {
      let best = 0;
      for (let i = 1; i < waiting.length; i++) {
        const w = waiting[i]!;
        const b = waiting[best]!;
        if (w.rank > b.rank || (w.rank === b.rank && w.seq < b.seq)) best = i;
      }
      const [next] = waiting.splice(best, 1);
      active++;
      next!.start();
    }
  };
  return <T>(fn: () => Promise<T>, rank: number) =>
    new Promise<T>((resolve, reject) => {
      const start = () => {
        Promise.resolve()
          .then(fn)
          .then(resolve, reject)
          .finally(() => {
            active--;
            pump();
          });
      };
      waiting.push({ rank, seq: arrivals++, start });
      pump();
    });
}
