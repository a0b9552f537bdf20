import { describe, expect, it } from 'vitest';
import { Limiter, accountPace, type WindowChange } from '../../src/render/limiter.js';

/** A limiter and the changes it announced. */
function make(ceiling: number) {
  const changes: WindowChange[] = [];
  const limiter = new Limiter(ceiling, (c) => changes.push(c));
  return { limiter, changes };
}

/** Creates `n` tasks one after another (each POST answered with a task). */
async function create(limiter: Limiter, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await limiter.acquire();
    limiter.created();
  }
}

/** Whether `acquire` has resolved after the pending callbacks ran. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('Limiter (AIMD window per account)', () => {
  it('starts at the ceiling and lets that many tasks in, no more', async () => {
    const { limiter } = make(3);
    expect(limiter.window).toBe(3);
    await create(limiter, 3);
    expect(limiter.inFlight).toBe(3);
    const fourth = limiter.acquire();
    expect(await settled(fourth)).toBe(false);
    limiter.ended();
    expect(await settled(fourth)).toBe(true);
    expect(limiter.inFlight).toBe(3);
  });

  it('a 429 far above the cap halves the window', async () => {
    const { limiter, changes } = make(12);
    await create(limiter, 3);
    await limiter.acquire();
    limiter.limited();
    expect(limiter.window).toBe(6);
    expect(changes).toEqual([{ window: 6, ceiling: 12, reason: 'rate_limited' }]);
    expect(limiter.inFlight).toBe(3);
  });

  it('a 429 near the cap cuts to the tasks the account holds, not below', async () => {
    const { limiter } = make(12);
    await create(limiter, 3);
    for (const expected of [6, 3]) {
      await limiter.acquire();
      limiter.limited();
      expect(limiter.window).toBe(expected);
    }
    // At 3 held in a window of 3 nothing more is sent until a task ends.
    expect(await settled(limiter.acquire())).toBe(false);
  });

  it('never goes below 1, and a 429 at 1 holding nothing changes nothing', async () => {
    const { limiter, changes } = make(2);
    await limiter.acquire();
    limiter.limited();
    expect(limiter.window).toBe(1);
    await limiter.acquire();
    limiter.limited();
    expect(limiter.window).toBe(1);
    expect(changes).toHaveLength(1);
    expect(limiter.inFlight).toBe(0);
  });

  it('grows one step per two windows of tasks created with the window full, up to the ceiling', async () => {
    const { limiter, changes } = make(4);
    await create(limiter, 2);
    await limiter.acquire();
    limiter.limited(); // 4 -> max(2, min(2, 3)) = 2
    expect(limiter.window).toBe(2);
    // One task ends and the next takes its place: the window stays full.
    const cycle = async (n: number) => {
      for (let i = 0; i < n; i++) {
        limiter.ended();
        await create(limiter, 1);
      }
    };
    await cycle(3);
    expect(limiter.window).toBe(2);
    await cycle(1);
    expect(limiter.window).toBe(3);
    expect(changes.at(-1)).toEqual({ window: 3, ceiling: 4, reason: 'recovered' });
    await create(limiter, 1); // fills the window of 3
    await cycle(5);
    expect(limiter.window).toBe(4);
    await create(limiter, 1);
    await cycle(20);
    expect(limiter.window).toBe(4);
    expect(changes.filter((c) => c.reason === 'recovered')).toHaveLength(2);
  });

  it('a window never filled does not grow', async () => {
    const { limiter } = make(4);
    await create(limiter, 2);
    await limiter.acquire();
    limiter.limited(); // -> 2
    limiter.ended();
    limiter.ended();
    for (let i = 0; i < 20; i++) {
      await create(limiter, 1);
      limiter.ended();
    }
    expect(limiter.window).toBe(2);
  });

  it('a 429 that cuts nothing (window 1) restarts the count towards growth', async () => {
    const { limiter } = make(2);
    await limiter.acquire();
    limiter.limited(); // 2 -> 1
    await create(limiter, 1);
    limiter.ended();
    await limiter.acquire();
    limiter.limited(); // already 1: no cut, but no growth right after either
    expect(limiter.window).toBe(1);
    await create(limiter, 1);
    expect(limiter.window).toBe(1);
    limiter.ended();
    await create(limiter, 1);
    expect(limiter.window).toBe(2);
  });

  it('a freed place goes to the first waiter; an aborted waiter leaves the queue', async () => {
    const { limiter } = make(1);
    await create(limiter, 1);
    const stop = new AbortController();
    const first = limiter.acquire(stop.signal);
    const second = limiter.acquire();
    stop.abort(new Error('stopped'));
    await expect(first).rejects.toThrow('stopped');
    limiter.ended();
    expect(await settled(second)).toBe(true);
    expect(limiter.inFlight).toBe(1);
  });

  it('a POST ended without a task (refused, unknown) frees its place without a cut', async () => {
    const { limiter, changes } = make(1);
    await limiter.acquire();
    const next = limiter.acquire();
    limiter.dropped();
    expect(await settled(next)).toBe(true);
    expect(changes).toEqual([]);
  });

  it('tasks taken over from the journal count against the window', async () => {
    const { limiter } = make(2);
    limiter.adopt();
    limiter.adopt();
    expect(await settled(limiter.acquire())).toBe(false);
  });
});

describe('accountPace', () => {
  it('an rpm spaces requests evenly, without a burst', () => {
    expect(accountPace(12, 120)).toEqual({ ratePerSecond: 2, burst: 1 });
    expect(accountPace(4, 30)).toEqual({ ratePerSecond: 0.5, burst: 1 });
  });

  it('without one, a guard that grows with the concurrency', () => {
    expect(accountPace(4, undefined)).toEqual({ ratePerSecond: 20, burst: 20 });
    expect(accountPace(32, undefined)).toEqual({ ratePerSecond: 128, burst: 64 });
  });
});
