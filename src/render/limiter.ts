/**
 * Adaptive concurrency for one account: an AIMD window over the tasks the account holds for
 * this run (submitted, not yet seen to end: a capped API counts queued and running tasks) plus
 * the POSTs on their way. The manifest's `concurrency` is the ceiling; a 429 on a POST cuts the
 * window, a run of tasks created with the window full grows it back one step. The account's
 * `rpm` paces every request to it through the client's request gate ({@link accountGate}).
 */

import { createRequestGate, type RequestGate } from '../api/gate.js';

/** Why the window moved: a POST answered 429, or enough tasks were created since. */
export type LimitReason = 'rate_limited' | 'recovered';

/** A change of the window, as the progress view and the events show it. */
export interface WindowChange {
  /** Tasks the account may now hold at once. */
  window: number;
  ceiling: number;
  reason: LimitReason;
}

/**
 * Tasks created (with the window full) per step of growth, in windows: at a steady cap each
 * step up costs one 429, so growing after two windows keeps the probes to one in `2 × window`.
 */
const WINDOWS_PER_STEP = 2;

export class Limiter {
  readonly ceiling: number;
  private size: number;
  /** Tasks created (or taken over) and not yet seen to end. */
  private tasks = 0;
  /** Places taken by POSTs not answered yet. */
  private sending = 0;
  /** Tasks created since the window last moved (or last met a 429). */
  private sinceChange = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    ceiling: number,
    private readonly onChange: (change: WindowChange) => void = () => undefined,
    /** Called whenever places may have come free (an account pool waits on it). */
    private readonly onRoom: () => void = () => undefined,
  ) {
    this.ceiling = Math.max(1, Math.floor(ceiling));
    this.size = this.ceiling;
  }

  /** How many tasks may be in flight now. */
  get window(): number {
    return this.size;
  }

  /** Tasks in flight plus POSTs on their way. */
  get inFlight(): number {
    return this.tasks + this.sending;
  }

  /**
   * Waits (first come, first served) until one more task fits in the window, then counts a
   * POST on its way. Rejects with the signal's reason when it aborts while waiting.
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.queue.length === 0 && this.inFlight < this.size) {
      this.sending++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.queue.indexOf(grant);
        if (at >= 0) this.queue.splice(at, 1);
        reject(signal?.reason as Error);
      };
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.queue.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * The POST created a task: it holds its place until {@link ended}. Only a task that fills the
   * window counts towards growth: a window never filled says nothing about the account's room.
   */
  created(): void {
    this.sending = Math.max(0, this.sending - 1);
    this.tasks++;
    if (this.inFlight < this.size) return;
    this.sinceChange++;
    if (this.size < this.ceiling && this.sinceChange >= this.size * WINDOWS_PER_STEP) {
      this.change(this.size + 1, 'recovered');
    }
  }

  /**
   * The POST was answered 429: nothing was created, its place is given back and the window is
   * halved, but not below the tasks the account holds for us now (it took them, so it has room
   * for that many) nor below 1.
   */
  limited(): void {
    this.sending = Math.max(0, this.sending - 1);
    const w = this.size;
    const cut = Math.max(1, Math.floor(w / 2), Math.min(this.tasks, w - 1));
    if (cut < w) this.change(cut, 'rate_limited');
    else this.sinceChange = 0;
    this.pump();
  }

  /** The POST ended without a task for another reason (refused, unknown, interrupted). */
  dropped(): void {
    this.sending = Math.max(0, this.sending - 1);
    this.pump();
  }

  /** Counts a task already running (taken over from the journal) without waiting. */
  adopt(): void {
    this.tasks++;
  }

  /** A task held ended (or was left to the next run): its place is free. */
  ended(): void {
    this.tasks = Math.max(0, this.tasks - 1);
    this.pump();
  }

  /** Lets waiters in, in order, while the window has room. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.size) {
      this.sending++;
      this.queue.shift()!();
    }
    this.onRoom();
  }

  private change(size: number, reason: LimitReason): void {
    this.size = size;
    this.sinceChange = 0;
    this.onChange({ window: size, ceiling: this.ceiling, reason });
    this.pump();
  }
}

/** How the requests of a run to one account are spaced: its `rpm`, else a guard against a stampede. */
export function accountPace(concurrency: number, rpm: number | undefined): GatePace {
  // A bucket of one: requests go evenly spaced, never in a burst the account would refuse.
  if (rpm !== undefined) return { ratePerSecond: rpm / 60, burst: 1 };
  return { ratePerSecond: Math.max(20, 4 * concurrency), burst: Math.max(20, 2 * concurrency) };
}

/** A request gate's rate and burst. */
export interface GatePace {
  ratePerSecond: number;
  burst: number;
}

/** The request gate of one account: every POST and poll to its API waits its turn here. */
export function accountGate(
  concurrency: number,
  rpm: number | undefined,
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
): RequestGate {
  return createRequestGate({ ...accountPace(concurrency, rpm), now: Date.now, sleep });
}
