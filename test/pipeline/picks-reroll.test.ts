import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseOf, runCommandLine } from '../../src/cli/common.js';
import { UsageError } from '../../src/errors.js';
import { validateManifest } from '../../src/manifest/load.js';
import {
  extraTakesFrom,
  formatPicks,
  markedShotsOnly,
  parsePicks,
  readPicks,
  recordRerolls,
  withPick,
  writePicks,
  type ShotPick,
} from '../../src/pipeline/picks.js';
import {
  checkRerollFlags,
  nothingToRerollMessage,
  refuseOldTakes,
  rerollTakes,
} from '../../src/pipeline/reroll.js';
import { plan } from '../../src/plan/plan.js';
import type { AssessedShot } from '../../src/render/state.js';
import { useCliWording } from '../helpers/cli-wording.js';

const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-reroll-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Messages read through the command line, in its wording.
useCliWording();

const loaded = validateManifest(
  `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4 }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
variants: [{ name: wide }, { name: tall, ratio: "9:16" }]
shots:
  - { id: s01, prompt: first, takes: 2 }
  - { id: s02, prompt: second }
`,
  'film.yaml',
);

const takes = (p: { shots: { id: string; variant: string | null; take: number }[] }) =>
  p.shots.map((s) => `${s.variant}/${s.id}/${s.take}`);

describe('re-roll takes in the plan', () => {
  const picks: ShotPick[] = [
    { shot: 's01', variant: 'wide', extra_takes: 1 },
    { shot: 's02', variant: 'tall', take: 1, body: 'x', reroll: true },
  ];

  it('every plan has the takes re-rolls added; a mark adds nothing outside a re-roll run', () => {
    expect(takes(plan(loaded, extraTakesFrom(picks)))).toEqual([
      'wide/s01/1',
      'wide/s01/2',
      'wide/s01/3',
      'wide/s02/1',
      'tall/s01/1',
      'tall/s01/2',
      'tall/s02/1',
    ]);
  });

  it('a re-roll run plans the marked shots only, each with one more take, and sends the last', () => {
    const marked = [...picks, { shot: 's01', variant: 'wide', extra_takes: 1, reroll: true }];
    const p = plan(loaded, { ...extraTakesFrom(marked, true), ...markedShotsOnly(marked) });
    expect(takes(p)).toEqual([
      'wide/s01/1',
      'wide/s01/2',
      'wide/s01/3',
      'wide/s01/4',
      'tall/s02/1',
      'tall/s02/2',
    ]);
    expect(rerollTakes(p, marked)).toEqual([
      { shot: 's01', variant: 'wide', take: 4, extra_takes: 2 },
      { shot: 's02', variant: 'tall', take: 2, extra_takes: 1 },
    ]);
  });

  it('refuses a re-roll run that would also send an older take, naming it', () => {
    const p = plan(loaded, { ...extraTakesFrom(picks, true), ...markedShotsOnly(picks) });
    const rerolls = rerollTakes(p, picks);
    const assessed = (submits: number[]) =>
      p.shots.map(
        (shot) =>
          ({
            shot,
            label: `${shot.id}#${shot.take}`,
            state: 'new',
            submits: submits.includes(shot.take),
          }) as AssessedShot,
      );
    expect(() => refuseOldTakes(assessed([2]), rerolls)).not.toThrow();
    expect(() => refuseOldTakes(assessed([1, 2]), rerolls)).toThrow(UsageError);
    expect(() => refuseOldTakes(assessed([1, 2]), rerolls)).toThrow(/s02#1 \(new\)/);
  });
});

describe('re-roll records in the picks file', () => {
  it('a pick or a mark keeps the extra takes; extra takes alone are kept', () => {
    let picks: ShotPick[] = [{ shot: 's01', variant: null, extra_takes: 2 }];
    picks = withPick(picks, { shot: 's01', variant: null, take: 3, body: 'b' });
    expect(picks).toEqual([{ shot: 's01', variant: null, take: 3, body: 'b', extra_takes: 2 }]);
    picks = withPick(picks, { shot: 's01', variant: null });
    expect(picks).toEqual([{ shot: 's01', variant: null, extra_takes: 2 }]);
  });

  it('extra_takes survives a write and a read', () => {
    const text = formatPicks(
      { revision: 4, picks: [{ shot: 's01', variant: 'wide', extra_takes: 2 }] },
      'film.yaml',
    );
    expect(text).toContain('# extra_takes: takes re-roll runs added');
    expect(parsePicks(text, 'film.picks.yaml').picks).toEqual([
      { shot: 's01', variant: 'wide', extra_takes: 2 },
    ]);
  });

  it('a finished re-roll clears the mark, keeps pick and note, and never lowers extra takes', async () => {
    const file = path.join(dir, 'film.picks.yaml');
    await writePicks(
      file,
      [
        { shot: 's01', variant: null, take: 2, body: 'b', reroll: true, note: 'too dark' },
        { shot: 's02', variant: null, reroll: true, extra_takes: 3 },
        { shot: 's03', variant: null, reroll: true },
      ],
      0,
    );
    await recordRerolls(file, [
      { shot: 's01', variant: null, extra_takes: 1 },
      { shot: 's02', variant: null, extra_takes: 2 },
    ]);
    const after = await readPicks(file);
    expect(after.revision).toBe(2);
    const byShot = Object.fromEntries(after.picks.map((p) => [p.shot, p]));
    expect(byShot.s01).toEqual({
      shot: 's01',
      variant: null,
      take: 2,
      body: 'b',
      note: 'too dark',
      extra_takes: 1,
    });
    expect(byShot.s02).toEqual({ shot: 's02', variant: null, extra_takes: 3 });
    // A take not done keeps its mark: the next `run --reroll` resumes it.
    expect(byShot.s03).toEqual({ shot: 's03', variant: null, reroll: true });
  });

  it('nothing done: the file is not written', async () => {
    const file = path.join(dir, 'none.picks.yaml');
    await recordRerolls(file, []);
    expect(await readPicks(file)).toEqual({ revision: 0, picks: [] });
  });
});

describe('re-roll runs and the command line', () => {
  it('the resume hint of an interrupted re-roll keeps --reroll: its new take is collected', () => {
    const line = runCommandLine(
      'film.yaml',
      { reroll: true },
      baseOf({ env: {} }, { simulate: true }),
    );
    expect(line).toBe('shotlist run film.yaml --simulate --reroll');
  });

  it('refuses flags a re-roll run cannot honour, naming them', () => {
    expect(() =>
      checkRerollFlags({ reroll: true, force: 'all', shard: { index: 1, count: 2 } }),
    ).toThrow(
      '--reroll renders one new take of each marked shot; it does not take --force, --shard',
    );
    expect(() => checkRerollFlags({ force: 'all' })).not.toThrow();
  });

  it('with nothing marked, says where it looked', () => {
    expect(nothingToRerollMessage('/p/film.yaml', {})).toMatch(
      /^no shot is marked for re-roll in film\.picks\.yaml: nothing to send/,
    );
    expect(nothingToRerollMessage('/p/film.yaml', { only: ['s01'] })).toContain(
      'film.picks.yaml among the shots of --only / --variant: nothing to send',
    );
  });
});
