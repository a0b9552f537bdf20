/**
 * One request budget shared by every shot: a token bucket that also pauses everyone when the
 * server answers 429 with `Retry-After`, so a crowd of pollers cannot stampede the API.
 */
export interface RequestGate {
  /** Resolves when one request may be sent; rejects if `signal` aborts while waiting. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Holds every request back for `ms` (the server asked for it). */
  pause(ms: number): void;
}

export interface RequestGateOptions {
  /** Sustained requests per second. */
  ratePerSecond: number;
  /** Requests that may go at once after a quiet spell. */
  burst: number;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Creates a first-come-first-served token bucket. */
export function createRequestGate(options: RequestGateOptions): RequestGate {
  const { ratePerSecond: rate, burst, now, sleep } = options;
  let tokens = burst;
  let last = now();
  let pausedUntil = 0;
  let queue: Promise<void> = Promise.resolve();

  const refill = () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - last) * rate) / 1000);
    last = t;
  };

  const take = async (signal?: AbortSignal) => {
    for (;;) {
      signal?.throwIfAborted();
      refill();
      const t = now();
      if (t < pausedUntil) {
        await sleep(pausedUntil - t, signal);
        continue;
      }
      if (tokens >= 1) {
        tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - tokens) * 1000) / rate), signal);
    }
  };

  return {
    acquire(signal) {
      const turn = queue.then(() => take(signal));
      queue = turn.catch(() => undefined);
      return turn;
    },
    pause(ms) {
      pausedUntil = Math.max(pausedUntil, now() + ms);
    },
  };
}

/** A gate that never waits: for tests and tools that do their own pacing. */
export const OPEN_GATE: RequestGate = {
  acquire: async () => undefined,
  pause: () => undefined,
};
