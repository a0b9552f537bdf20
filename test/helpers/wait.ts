import { setTimeout as delay } from 'node:timers/promises';
import type { ResultPromise } from 'execa';

/**
 * How long a test waits for an event before it gives up: a backstop against a hang, never a
 * measure of speed. Minutes, so that a loaded two-core machine only makes a test slower.
 */
export const EVENT_DEADLINE_MS = 300_000;

/** Waits until `check` holds, looking every 50 ms; throws naming `what` after the deadline. */
export async function until(
  check: () => boolean,
  what: string,
  deadlineMs = EVENT_DEADLINE_MS,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await delay(50);
  }
}

/**
 * Resolves once the child's stdout so far satisfies `seen`, or once the child has ended
 * (the caller's assertions then say what was missing). Returns the stdout seen so far.
 */
export function untilOutput(
  child: ResultPromise,
  seen: (stdout: string) => boolean,
): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (seen(text)) resolve(text);
    });
    void child.then(() => resolve(text));
  });
}

/** How many NDJSON events named `event` the text holds. */
export function eventCount(text: string, event: string): number {
  return text.split(`"event":"${event}"`).length - 1;
}

/**
 * A clock for the simulator that stands still until released: while it is held no task
 * finishes, however slow the machine, so a test can stop a run with tasks surely in flight.
 * Released, it is the wall clock again (tasks held past their latency finish at once).
 */
export function heldClock(): { now: () => number; release: () => void } {
  const start = Date.now();
  let held = true;
  return {
    now: () => (held ? start : Date.now()),
    release: () => {
      held = false;
    },
  };
}
