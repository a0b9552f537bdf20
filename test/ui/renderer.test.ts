import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RenderEvent } from '../../src/render/events.js';
import { describeEvent, formatBytes, formatDuration, formatMoney } from '../../src/ui/format.js';
import { createJsonProgress, createPlainProgress } from '../../src/ui/progress.js';
import { getRenderer, MAX_LISTR_SHOTS } from '../../src/ui/renderer.js';

describe('getRenderer', () => {
  it('picks json with --json whatever the terminal', () => {
    expect(getRenderer({ json: true, isTTY: true }, {})).toBe('json');
  });
  it('picks the task list on a terminal', () => {
    expect(getRenderer({ isTTY: true, shots: 12 }, {})).toBe('listr');
  });
  it('falls back to the plain log without a TTY, on CI, on a dumb terminal, or for huge runs', () => {
    expect(getRenderer({ isTTY: false }, {})).toBe('plain');
    expect(getRenderer({ isTTY: true }, { CI: 'true' })).toBe('plain');
    expect(getRenderer({ isTTY: true }, { CI: '1' })).toBe('plain');
    expect(getRenderer({ isTTY: true }, { CI: 'false' })).toBe('listr');
    expect(getRenderer({ isTTY: true }, { TERM: 'dumb' })).toBe('plain');
    expect(getRenderer({ isTTY: true, shots: MAX_LISTR_SHOTS + 1 }, {})).toBe('plain');
  });
});

const at = Date.parse('2025-01-01T10:00:00Z');
const base = { at, shot: 's01', key: 'k' };

function collect(create: typeof createPlainProgress, events: RenderEvent[]): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const view = create({
    shots: [{ label: 's01', key: 'k', id: 's01', variant: null, take: 1 }],
    currency: 'CNY',
    out,
  });
  for (const e of events) view.onEvent(e);
  return text;
}

describe('progress views', () => {
  const events: RenderEvent[] = [
    { ...base, type: 'submitted', taskId: 'task_1', resumed: false, cost: 4 },
    { ...base, type: 'downloading', taskId: 'task_1', bytes: 10, total: 100 },
    {
      ...base,
      type: 'done',
      taskId: 'task_1',
      file: 'clips/s01.mp4',
      elapsedMs: 1500,
      cached: false,
    },
    {
      ...base,
      type: 'failed',
      taskId: 'task_2',
      error: { code: 'content_filter', message: 'content policy violation' },
    },
  ];
  it('plain: one line per event, download progress left out', () => {
    const text = collect(createPlainProgress, events);
    expect(text.trim().split('\n')).toEqual([
      '10:00:00 s01 submitted as task_1',
      '10:00:00 s01 done in 1.5 s: clips/s01.mp4',
      '10:00:00 s01 failed: content_filter: content policy violation',
    ]);
  });
  it('json: one object per event with its name and time', () => {
    const lines = collect(createJsonProgress, events)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({
      schema: 1,
      event: 'submitted',
      time: '2025-01-01T10:00:00.000Z',
      id: 's01',
      task_id: 'task_1',
    });
    expect(lines[0]).not.toHaveProperty('taskId');
    expect(lines[0]).not.toHaveProperty('shot');
    expect(lines[3]).toMatchObject({ event: 'failed', error: { code: 'content_filter' } });
  });
});

describe('formatting', () => {
  it('bytes, durations, money and states', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(82_000)).toBe('82 kB');
    expect(formatBytes(1_460_000)).toBe('1.5 MB');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatMoney(12, 'CNY')).toBe('12.00 CNY');
    expect(formatMoney(null, 'CNY')).toBe('-');
    expect(
      describeEvent({ ...base, type: 'status', taskId: 't', status: 'in_progress', progress: 30 }),
    ).toBe('in progress 30%');
    expect(describeEvent({ ...base, type: 'pending', taskId: 't', reason: 'deadline' })).toMatch(
      /deadline/,
    );
  });
});
