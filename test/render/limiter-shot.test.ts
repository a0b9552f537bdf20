import pLimit from 'p-limit';
import { describe, expect, it, vi } from 'vitest';
import type { SubmitResult } from '../../src/api/client.js';
import { ApiError } from '../../src/errors.js';
import { costLedger, pricesOf } from '../../src/render/cost.js';
import { foldJournal } from '../../src/render/journal.js';
import { Limiter } from '../../src/render/limiter.js';
import { renderShot, type Slots } from '../../src/render/shot.js';
import { KEY, fakeClient, fakeContext, plannedShot } from './fakes.js';

const error = new ApiError('the API answered 429: 429 too many tasks', {
  code: 'rate_limited',
  status: 429,
});
const limited = (retryAfterMs?: number): SubmitResult => ({ kind: 'limited', error, retryAfterMs });
const created: SubmitResult = { kind: 'created', task: { id: 'task_1', status: 'queued' } };
const failedTask = { id: 'task_1', status: 'failed' as const, error: { message: 'filtered' } };

function slots(limiter = new Limiter(4)): Slots {
  return { tasks: pLimit(4), limiter, downloads: pLimit(1), posts: pLimit(1) };
}

describe('a shot answered 429 (render core on fakes)', () => {
  it('is sent again after Retry-After under the same Idempotency-Key; the window is cut', async () => {
    const submit = vi.fn().mockResolvedValueOnce(limited(1000)).mockResolvedValueOnce(created);
    const getTask = vi.fn().mockResolvedValue(failedTask);
    const f = fakeContext(fakeClient({ submit, getTask }));
    const limiter = new Limiter(4);
    await renderShot(f.ctx, f.ctx.shot, slots(limiter));

    expect(submit).toHaveBeenCalledTimes(2);
    const idems = submit.mock.calls.map((c) => (c[1] as { idempotencyKey: string }).idempotencyKey);
    expect(new Set(idems).size).toBe(1);
    expect(f.sleeps[0]).toBe(1000);
    expect(limiter.window).toBe(2);
    expect(limiter.inFlight).toBe(0);
    expect(f.entries.map((e) => e.type)).toEqual(['intent', 'failed', 'intent', 'task', 'failed']);
    expect(f.events.map((e) => e.type)).toContain('limited');
    // One task in the bill, not two: the 429 created nothing.
    expect(costLedger(f.entries, pricesOf([plannedShot()])).tasks).toBe(1);
  });

  it('stopped while waiting to send again: nothing sent, the journal says nothing was created', async () => {
    const submit = vi.fn().mockResolvedValue(limited(1000));
    const f = fakeContext(fakeClient({ submit }));
    f.ctx.sleep = () => {
      f.submitStop.abort(new Error('stopped'));
      return Promise.reject(new Error('aborted'));
    };
    const result = await renderShot(f.ctx, f.ctx.shot, slots());

    expect(submit).toHaveBeenCalledTimes(1);
    expect(result.status).toBe('skipped');
    const shot = foldJournal(f.entries).get(KEY)!;
    // The next run submits it again (state `retry`), instead of leaving it `unknown`.
    expect(shot.phase).toBe('failed');
    expect(shot.taskId).toBeUndefined();
    expect(shot.error?.code).toBe('rate_limited');
    expect(costLedger(f.entries, pricesOf([plannedShot()])).tasks).toBe(0);
  });

  it('answered 429 time after time: backs off, then fails for this run with nothing created', async () => {
    const submit = vi.fn().mockResolvedValue(limited());
    const f = fakeContext(fakeClient({ submit }));
    const result = await renderShot(f.ctx, f.ctx.shot, slots());

    expect(submit).toHaveBeenCalledTimes(20);
    expect(f.sleeps.slice(0, 3)).toEqual([275, 550, 1100]);
    expect(Math.max(...f.sleeps)).toBeLessThanOrEqual(20_000);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'rate_limited' } });
    expect(result.submissions).toBe(0);
    expect(foldJournal(f.entries).get(KEY)?.phase).toBe('failed');
  });
});
