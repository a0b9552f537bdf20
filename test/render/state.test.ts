import { expect, it } from 'vitest';
import type { PlannedShot } from '../../src/plan/types.js';
import { journalKey } from '../../src/manifest/identity.js';
import { foldJournal, type JournalEntry } from '../../src/render/journal.js';
import { assessShots, summarizeAssessment } from '../../src/render/state.js';

const BASE = 'http://127.0.0.1:9';
const shot = {
  id: 's03',
  variant: null,
  take: 1,
  seconds: 4,
  cost: 4,
  request: { model: 'seedance-2-official', prompt: 'a storm over the sea', duration: 4 },
} as unknown as PlannedShot;
const key = journalKey(shot.request, 1, BASE);

/** One generation: intent, task, and the task failing by the content filter. */
function failedGen(gen: number, taskId: string): JournalEntry[] {
  const ref = { id: 's03', variant: null, take: 1 };
  return [
    { type: 'intent', key, shot: ref, gen, idem: `i${gen}`, at: gen },
    { type: 'task', key, task_id: taskId, at: gen },
    { type: 'failed', key, task_id: taskId, code: 'content_filter', message: 'flagged', at: gen },
  ];
}

const assess = (entries: JournalEntry[], more: { maxAttempts?: number; force?: string[] } = {}) =>
  assessShots(
    { shots: [shot] },
    { outDir: '/nonexistent', baseUrl: BASE, journal: foldJournal(entries), ...more },
  );

it('counts failed tasks per body across generations, each task once', () => {
  const entries = [...failedGen(1, 't1'), ...failedGen(2, 't2'), failedGen(2, 't2')[2]!];
  expect(foldJournal(entries).get(key)?.failedTasks).toBe(2);
  // A refusal without a task (the network, a bad key) is not a failed task.
  const refused: JournalEntry = {
    type: 'failed',
    key,
    code: 'unreachable',
    message: 'down',
    at: 3,
  };
  expect(foldJournal([...failedGen(1, 't1'), refused]).get(key)?.failedTasks).toBe(1);
});

it('retries below max_attempts, gives up at it, and --force sends it again', async () => {
  const once = (await assess(failedGen(1, 't1')))[0]!;
  expect(once).toMatchObject({ state: 'retry', submits: true, failures: 1, cost: 4 });

  const twice = [...failedGen(1, 't1'), ...failedGen(2, 't2')];
  const gaveUp = await assess(twice);
  expect(gaveUp[0]).toMatchObject({ state: 'gave_up', submits: false, failures: 2, cost: 0 });
  expect(summarizeAssessment(gaveUp)).toMatchObject({ submits: 0, newCost: null });
  expect(summarizeAssessment(gaveUp).counts.gave_up).toBe(1);

  expect((await assess(twice, { maxAttempts: 3 }))[0]).toMatchObject({ state: 'retry' });
  expect((await assess(twice, { force: ['s03'] }))[0]).toMatchObject({
    state: 'forced',
    submits: true,
  });
});
