import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { idempotencyKey, type JournalShot } from '../../src/render/journal.js';
import { submitShot } from '../../src/render/submit.js';
import { KEY, assessed, fakeClient, fakeContext } from './fakes.js';
import { useCliWording } from '../helpers/cli-wording.js';

const task = { id: 'task-1', status: 'queued' as const };

// Messages read through the command line, in its wording.
useCliWording();

describe('submit', () => {
  it('journals the intent, POSTs once with its Idempotency-Key and the submissions signal, then journals the task', async () => {
    const submit = vi.fn(() => Promise.resolve({ kind: 'created' as const, task }));
    const f = fakeContext(fakeClient({ submit }));
    const out = await submitShot(f.ctx);
    expect(out).toEqual({ kind: 'task', taskId: 'task-1', submittedAt: 1000 });
    expect(submit).toHaveBeenCalledTimes(1);
    expect(submit).toHaveBeenCalledWith(f.ctx.shot.shot.request, {
      idempotencyKey: idempotencyKey(KEY, 1),
      signal: f.ctx.submissions,
      requeue: true,
    });
    expect(f.entries).toEqual([
      {
        type: 'intent',
        key: KEY,
        shot: { id: 's01', variant: null, take: 1 },
        gen: 1,
        idem: idempotencyKey(KEY, 1),
        base: 'https://api.example.test',
        model: 'seedance-2-official',
        seconds: 4,
        unit_price: 1,
        currency: 'CNY',
        at: 1000,
      },
      { type: 'task', key: KEY, task_id: 'task-1', at: 1000 },
    ]);
    expect(f.durable).toEqual([true, true]);
    expect(f.ctx.result).toMatchObject({ taskId: 'task-1', submissions: 1, cost: 4 });
    expect(f.events.map((e) => e.type)).toEqual(['submitting', 'submitted']);
  });

  it('a 429 created nothing: journaled failed without a task, nothing charged, not a failure yet', async () => {
    const error = new ApiError('the API answered 429: 429 busy', {
      code: 'rate_limited',
      status: 429,
    });
    const submit = vi.fn(() =>
      Promise.resolve({ kind: 'limited' as const, error, retryAfterMs: 1000 }),
    );
    const f = fakeContext(fakeClient({ submit }));
    const out = await submitShot(f.ctx);
    expect(out).toEqual({ kind: 'limited', retryAfterMs: 1000 });
    expect(f.entries.map((e) => e.type)).toEqual(['intent', 'failed']);
    expect(f.entries[1]).toEqual({
      type: 'failed',
      key: KEY,
      code: 'rate_limited',
      message: 'the API answered 429: 429 busy; nothing was created',
      at: 1000,
    });
    expect(f.durable).toEqual([true, true]);
    expect(f.ctx.result).toMatchObject({ status: 'skipped', submissions: 0 });
    expect(f.ctx.result.charge).toBeUndefined();
  });

  it('a POST that throws after sending is unknown: journaled, at risk, not sent again', async () => {
    const submit = vi.fn(() => Promise.reject(new Error('socket hang up')));
    const f = fakeContext(fakeClient({ submit }));
    const out = await submitShot(f.ctx);
    expect(out.kind).toBe('unknown');
    expect(submit).toHaveBeenCalledTimes(1);
    expect(f.entries.map((e) => e.type)).toEqual(['intent', 'unknown']);
    expect(f.entries[1]).toMatchObject({ message: 'socket hang up' });
    expect(f.ctx.result).toMatchObject({
      status: 'unknown',
      submissions: 0,
      charge: { kind: 'at_risk', seconds: 4, cost: 4 },
      error: { code: 'submit_failed', message: 'socket hang up' },
    });
  });

  it('an unknown answer journals the reason and tells the user how to resubmit', async () => {
    const error = new ApiError('timed out after sending', { code: 'timeout' });
    const f = fakeContext(
      fakeClient({ submit: () => Promise.resolve({ kind: 'unknown', error }) }),
    );
    const out = await submitShot(f.ctx);
    expect(out.kind).toBe('unknown');
    expect(f.entries[1]).toEqual({
      type: 'unknown',
      key: KEY,
      message: 'timed out after sending',
      at: 1000,
    });
    expect(f.ctx.result.error?.code).toBe('unknown');
    expect(f.ctx.result.error?.message).toMatch(/--retry-unknown$/);
  });

  it('a 4xx is rejected: journaled failed with the server code, nothing charged', async () => {
    const error = new ApiError('bad request', {
      code: 'http_400',
      status: 400,
      serverCode: 'invalid_request',
      serverMessage: 'duration must be 4-15',
    });
    const f = fakeContext(
      fakeClient({ submit: () => Promise.resolve({ kind: 'rejected', error }) }),
    );
    const out = await submitShot(f.ctx);
    expect(out.kind).toBe('rejected');
    expect(f.entries[1]).toEqual({
      type: 'failed',
      key: KEY,
      code: 'invalid_request',
      message: 'duration must be 4-15',
      at: 1000,
    });
    expect(f.ctx.result).toMatchObject({ status: 'failed', submissions: 0 });
    expect(f.ctx.result.charge).toBeUndefined();
    expect(f.events.at(-1)).toMatchObject({ type: 'failed', error: { status: 400 } });
  });

  it('a refused key fails the shot and stops new submissions, not the polls', async () => {
    const refused = new ApiError('key refused', { code: 'unauthorized', status: 401 });
    const f = fakeContext(fakeClient({ submit: () => Promise.reject(refused) }));
    const out = await submitShot(f.ctx);
    expect(out.kind).toBe('rejected');
    expect(f.halted).toEqual([refused]);
    expect(f.ctx.submissions.aborted).toBe(true);
    expect(f.ctx.signal.aborted).toBe(false);
    expect(f.entries.map((e) => e.type)).toEqual(['intent', 'failed']);
  });

  it('resubmitting an unknown shot keeps its generation and Idempotency-Key', async () => {
    const journal: JournalShot = {
      key: KEY,
      shot: { id: 's01', variant: null, take: 1 },
      gen: 3,
      idem: 'shotlist-earlier-key',
      phase: 'unknown',
      intentAt: 1,
    };
    const submit = vi.fn(() => Promise.resolve({ kind: 'created' as const, task }));
    const f = fakeContext(fakeClient({ submit }), {
      ...assessed('unknown', journal),
      submits: true,
    });
    await submitShot(f.ctx);
    expect(f.entries[0]).toMatchObject({ type: 'intent', gen: 3, idem: 'shotlist-earlier-key' });
    expect(submit).toHaveBeenCalledWith(expect.anything(), {
      idempotencyKey: 'shotlist-earlier-key',
      signal: f.ctx.submissions,
      requeue: true,
    });
  });

  it('a retried shot takes the next generation', async () => {
    const journal: JournalShot = {
      key: KEY,
      shot: { id: 's01', variant: null, take: 1 },
      gen: 2,
      idem: idempotencyKey(KEY, 2),
      phase: 'failed',
      taskId: 'old',
      intentAt: 1,
    };
    const f = fakeContext(
      fakeClient({ submit: () => Promise.resolve({ kind: 'created', task }) }),
      assessed('retry', journal),
    );
    await submitShot(f.ctx);
    expect(f.entries[0]).toMatchObject({ gen: 3, idem: idempotencyKey(KEY, 3) });
  });
});
