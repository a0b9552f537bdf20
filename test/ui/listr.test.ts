import { describe, expect, it } from 'vitest';
import { progressHeader } from '../../src/ui/listr.js';

describe('the task list header', () => {
  const shots = [
    { label: 'a', key: 'k1' },
    { label: 'b', key: 'k2' },
  ];

  it('shows counts and the spend so far', () => {
    expect(progressHeader({ shots, currency: 'CNY' }, { done: 1, running: 1, failed: 0 }, 4)).toBe(
      'Rendering 2 shots: 1 done, 1 running, 0 failed, spent 4.00 CNY',
    );
  });

  it('never says a simulated run spent money', () => {
    const line = progressHeader(
      { shots, currency: 'CNY', simulated: true },
      { done: 2, running: 0, failed: 0 },
      8,
    );
    expect(line).toContain('simulated, would cost 8.00 CNY');
    expect(line).not.toContain('spent');
  });

  it('shows the account concurrency while a 429 holds it below the ceiling', () => {
    const counts = { done: 0, running: 3, failed: 0 };
    const input = { shots, currency: 'CNY' };
    expect(progressHeader(input, counts, 0, { concurrency: 3, ceiling: 12 })).toBe(
      'Rendering 2 shots: 0 done, 3 running, 0 failed, concurrency 3 of 12 (429), spent 0.00 CNY',
    );
    expect(progressHeader(input, counts, 0, { concurrency: 12, ceiling: 12 })).not.toContain(
      'concurrency',
    );
  });
});
