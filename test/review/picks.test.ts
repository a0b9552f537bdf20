import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  StalePicksError,
  applyPicks,
  parsePicks,
  picksFileOf,
  readPicks,
  writePicks,
} from '../../src/pipeline/picks.js';
import { bodyFingerprint } from '../../src/manifest/identity.js';
import type { PlannedShot } from '../../src/plan/types.js';

const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-picks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function shot(id: string, take: number, prompt = `prompt of ${id}`): PlannedShot {
  return {
    id,
    variant: null,
    take,
    request: { model: 'seedance-2-official', prompt },
  } as PlannedShot;
}

describe('picks file', () => {
  it('sits beside the manifest: film.yaml -> film.picks.yaml', () => {
    expect(picksFileOf('/p/film.yaml')).toBe('/p/film.picks.yaml');
    expect(picksFileOf('/p/film.yml')).toBe('/p/film.picks.yaml');
  });

  it('refuses a write against an old revision and keeps the file as it was', async () => {
    const file = path.join(dir, 'a.picks.yaml');
    expect(await readPicks(file)).toEqual({ revision: 0, picks: [] });
    await writePicks(file, [{ shot: 's01', variant: null, take: 2, body: 'x' }], 0);
    const before = readFileSync(file, 'utf8');
    await expect(
      writePicks(file, [{ shot: 's01', variant: null, take: 3, body: 'x' }], 0),
    ).rejects.toBeInstanceOf(StalePicksError);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect((await readPicks(file)).revision).toBe(1);
  });

  it('names the bad entry of a hand-edited file', () => {
    expect(() => parsePicks('picks:\n  - { shot: s01, take: 0 }\n', 'f.picks.yaml')).toThrow(
      expect.objectContaining({
        diagnostics: [
          expect.objectContaining({
            file: 'f.picks.yaml',
            line: 2,
            col: 5,
            message: 'picks[0] needs a take >= 1',
          }),
        ],
      }),
    );
    writeFileSync(path.join(dir, 'empty.picks.yaml'), '');
    expect(parsePicks('', 'empty')).toEqual({ revision: 0, picks: [] });
  });
});

describe('applyPicks', () => {
  const plan = { shots: [1, 2, 3].flatMap((t) => [shot('s01', t), shot('s02', t)]) };

  it('applies a pick made for the current body, and says why the others are stale', () => {
    const body01 = bodyFingerprint(shot('s01', 1));
    const applied = applyPicks(plan, [
      { shot: 's01', variant: null, take: 3, body: body01 },
      { shot: 's02', variant: null, take: 2, body: bodyFingerprint(shot('s02', 1, 'older')) },
      { shot: 's01', variant: null, take: 4, body: body01 },
      { shot: 's09', variant: null, take: 1, body: body01 },
    ]);
    expect(applied.takeOf('s01', null)).toBe(3);
    expect(applied.takeOf('s02', null)).toBe(1);
    expect(applied.stale.map((s) => s.reason)).toEqual([
      "the take's request is not the one picked: the shot was edited, or a local file or frame it reads is at another address",
      'the shot has 3 takes',
      'the shot is no longer in the manifest',
    ]);
  });
});
