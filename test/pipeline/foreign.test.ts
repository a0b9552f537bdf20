import { describe, expect, it } from 'vitest';
import { chooseBase } from '../../src/pipeline/base.js';
import { foreignTasks } from '../../src/pipeline/clips.js';
import { checkForeignTasks } from '../../src/pipeline/run.js';
import type { JournalShot } from '../../src/render/journal.js';
import type { PreparedRun } from '../../src/pipeline/types.js';
import { useCliWording } from '../helpers/cli-wording.js';

const A = 'http://127.0.0.1:8090';
const B = 'http://127.0.0.1:9000';

function journalShot(key: string, base: string | undefined, phase: JournalShot['phase']) {
  return {
    key,
    shot: { id: key, variant: null, take: 1 },
    gen: 1,
    idem: `idem-${key}`,
    ...(base !== undefined ? { base } : {}),
    phase,
    intentAt: 1,
  } as JournalShot;
}

/** The parts of a prepared run the base check reads. */
function prepared(journal: JournalShot[], base: ReturnType<typeof chooseBase>): PreparedRun {
  const shots = new Map(journal.map((j) => [j.key, j]));
  return {
    outDir: '/renders/ad',
    base,
    foreign: foreignTasks(shots, base.journalBase),
    summary: { submits: 2 },
  } as unknown as PreparedRun;
}

// Messages read through the command line, in its wording.
useCliWording();

describe('tasks journaled for another API base URL', () => {
  const journal = [
    journalShot('k1', A, 'submitted'),
    journalShot('k2', A, 'downloaded'),
    journalShot('k3', undefined, 'submitted'),
    journalShot('k4', B, 'submitted'),
  ];

  it('counts open tasks per other base, not fetched ones or journals without a base', () => {
    expect(foreignTasks(new Map(journal.map((j) => [j.key, j])), B)).toEqual([
      { base: A, tasks: 1 },
    ]);
  });

  it('refuses under yes when the base came from the environment, and names the way back', () => {
    const run = prepared(journal, chooseBase({ env: { SHOTLIST_BASE_URL: B } }));
    expect(() => checkForeignTasks(run, true)).toThrow(
      /1 task sent to another API \(127\.0\.0\.1:8090\)/,
    );
  });

  it('warns, and goes on, when the base was given explicitly or someone is asked', () => {
    const notes: string[] = [];
    checkForeignTasks(prepared(journal, chooseBase({ baseUrl: B, env: {} })), true, (l) =>
      notes.push(l),
    );
    checkForeignTasks(
      prepared(journal, chooseBase({ env: { SHOTLIST_BASE_URL: B } })),
      false,
      (l) => notes.push(l),
    );
    expect(notes).toHaveLength(2);
    for (const n of notes) {
      expect(n).toContain('rendered against another API (127.0.0.1:8090)');
      expect(n).not.toContain(`--base-url ${A}`);
    }
  });
});
