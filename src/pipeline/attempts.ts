/**
 * Shots given up on: their request failed `max_attempts` times, so the run does not send it
 * again. The renderer never sees them; they end the run failed, saying why and how to force it.
 */
import type { RenderEvent } from '../render/events.js';
import type { RenderResult, ShotResult } from '../render/render.js';
import { gaveUpMessage, type AssessedShot } from '../render/state.js';
import { journalResult } from './report.js';

/** The shots the renderer is given: every one but those given up on. */
export function renderable(assessed: readonly AssessedShot[]): AssessedShot[] {
  return assessed.filter((a) => a.state !== 'gave_up');
}

/** A given-up shot as this run's result: failed, nothing sent, nothing spent. */
function gaveUpResult(a: AssessedShot): ShotResult {
  return {
    ...journalResult(a),
    error: { code: 'max_attempts', message: gaveUpMessage(a) },
  };
}

/** The event that closes a given-up shot in the progress view and the event stream. */
export function gaveUpEvent(a: AssessedShot, at: number): RenderEvent {
  const { error } = gaveUpResult(a);
  return { type: 'failed', at, shot: a.label, key: a.key, taskId: undefined, error: error! };
}

/**
 * The render's result with the given-up shots put back in the assessment's order: the renderer
 * returns its shots in the order it was given them.
 */
export function withGaveUp(result: RenderResult, assessed: readonly AssessedShot[]): RenderResult {
  const rendered = result.shots[Symbol.iterator]();
  const shots = assessed.map((a) =>
    a.state === 'gave_up' ? gaveUpResult(a) : (rendered.next().value as ShotResult),
  );
  return { ...result, shots };
}
