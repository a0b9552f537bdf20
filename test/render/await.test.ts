import { describe, expect, it } from 'vitest';
import { RetryableApiError } from '../../src/api/client.js';
import type { VideoTask } from '../../src/api/types.js';
import { ApiError } from '../../src/errors.js';
import { awaitTask } from '../../src/render/await.js';
import { KEY, fakeClient, fakeContext } from './fakes.js';

const URL = 'https://files.example.test/v.mp4';

/** A getTask answering the scripted looks in turn, then the last one for ever. */
function script(...looks: (Partial<VideoTask> | Error)[]) {
  let i = 0;
  const getTask = (id: string) => {
    const look = looks[Math.min(i++, looks.length - 1)]!;
    if (look instanceof Error) return Promise.reject(look);
    return Promise.resolve({ id, status: 'queued', ...look } as VideoTask);
  };
  return { getTask, looks: () => i };
}

const task = { taskId: 'task-1', t0: 1000, fresh: true };

describe('await', () => {
  it('follows queued -> in_progress -> completed on the injected clock and journals the end', async () => {
    const api = script(
      { status: 'queued', progress: 0 },
      { status: 'in_progress', progress: 30 },
      { status: 'in_progress', progress: 30 },
      { status: 'completed', progress: 100, seconds: 5, metadata: { url: URL } },
    );
    const f = fakeContext(fakeClient({ getTask: api.getTask }));
    const out = await awaitTask(f.ctx, task);
    expect(out).toEqual({ kind: 'completed', url: URL });
    expect(api.looks()).toBe(4);
    // Only the injected clock moved: the waits add up to the time that passed.
    expect(f.clock.t - 1000).toBe(f.sleeps.reduce((a, b) => a + b, 0));
    expect(f.sleeps[0]).toBe(f.ctx.tuning.firstMs);
    const statuses = f.events.filter((e) => e.type === 'status').map((e) => e.status);
    expect(statuses).toEqual(['queued', 'in_progress', 'completed']);
    expect(f.entries.map((e) => e.type)).toEqual(['status', 'status', 'completed']);
    // Status lines are not synced one by one; the completion is.
    expect(f.durable).toEqual([false, false, true]);
    expect(f.entries[2]).toEqual({
      type: 'completed',
      key: KEY,
      task_id: 'task-1',
      url: URL,
      seconds: 5,
      reported_seconds: 5,
      at: f.clock.t,
    });
    expect(f.ctx.result.charge).toEqual({ kind: 'billed', seconds: 5, cost: 5 });
    expect(f.ctx.result.completedAt).toBe(f.clock.t);
    // A task submitted in this run teaches the schedule its duration.
    expect(f.ctx.model.count).toBe(1);
  });

  it('a task taken over from an earlier run teaches the schedule nothing', async () => {
    const api = script({ status: 'completed', metadata: { url: URL } });
    const f = fakeContext(fakeClient({ getTask: api.getTask }));
    await awaitTask(f.ctx, { ...task, fresh: false });
    expect(f.ctx.model.count).toBe(0);
  });

  it('leaves the task pending at the deadline, having waited no longer than it', async () => {
    const api = script({ status: 'in_progress', progress: 30 });
    const f = fakeContext(fakeClient({ getTask: api.getTask }), undefined, { deadlineMs: 20_000 });
    const out = await awaitTask(f.ctx, task);
    expect(out.kind).toBe('ended');
    expect(f.ctx.result).toMatchObject({
      status: 'pending',
      error: { code: 'deadline' },
      charge: { kind: 'at_risk' },
    });
    expect(f.clock.t - 1000).toBe(20_000);
    expect(f.events.at(-1)).toMatchObject({
      type: 'pending',
      taskId: 'task-1',
      reason: 'deadline',
    });
  });

  it('a failed look never fails the shot; Retry-After sets the next wait', async () => {
    const busy = new RetryableApiError('busy', { code: 'http_429', retryAfterMs: 7_000 });
    const api = script(busy, { status: 'completed', metadata: { url: URL } });
    const f = fakeContext(fakeClient({ getTask: api.getTask }));
    const out = await awaitTask(f.ctx, task);
    expect(out.kind).toBe('completed');
    expect(f.sleeps[1]).toBe(7_000);
  });

  it('a failed task fails the shot with the API reason, journaled with its id', async () => {
    const api = script({
      status: 'failed',
      error: { code: 'content_filter', message: 'refused by the filter' },
    });
    const f = fakeContext(fakeClient({ getTask: api.getTask }));
    const out = await awaitTask(f.ctx, task);
    expect(out.kind).toBe('ended');
    expect(f.entries.at(-1)).toMatchObject({
      type: 'failed',
      task_id: 'task-1',
      code: 'content_filter',
      message: 'refused by the filter',
    });
    expect(f.ctx.result).toMatchObject({ status: 'failed', charge: { kind: 'failed' } });
  });

  it('a vanished task fails; a completed one without a link fails', async () => {
    const gone = new ApiError('no such task', { code: 'task_not_found', status: 404 });
    const f = fakeContext(fakeClient({ getTask: script(gone).getTask }));
    await awaitTask(f.ctx, task);
    expect(f.ctx.result.error?.code).toBe('task_not_found');

    const g = fakeContext(fakeClient({ getTask: script({ status: 'completed' }).getTask }));
    await awaitTask(g.ctx, task);
    expect(g.ctx.result).toMatchObject({ status: 'failed', error: { code: 'no_url' } });
  });

  it('a stopped run leaves the task pending without looking again', async () => {
    const api = script({ status: 'queued' });
    const f = fakeContext(fakeClient({ getTask: api.getTask }));
    f.stop.abort();
    await awaitTask(f.ctx, task);
    expect(api.looks()).toBe(0);
    expect(f.ctx.result).toMatchObject({ status: 'pending', error: { code: 'interrupted' } });
    expect(f.entries).toEqual([]);
  });

  it('a refused key while polling stops the run', async () => {
    const refused = new ApiError('key refused', { code: 'unauthorized', status: 401 });
    const f = fakeContext(fakeClient({ getTask: script(refused).getTask }));
    await awaitTask(f.ctx, task);
    expect(f.halted).toEqual([refused]);
    expect(f.ctx.result.status).toBe('pending');
  });
});
