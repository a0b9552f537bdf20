import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-file-names-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

function writeFilm(shots: string, picks?: string): string {
  const manifest = path.join(tmp.dir, 'film.yaml');
  writeFileSync(
    manifest,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
shots:
${shots}`,
  );
  if (picks !== undefined) writeFileSync(path.join(tmp.dir, 'film.picks.yaml'), picks);
  return manifest;
}

describe('two shots never write one file (built bin)', () => {
  it('a shot s01.take2 beside s01 with two takes: validate and run refuse at the shot, naming both and the file; nothing is sent', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0 });
    const manifest = writeFilm(
      '  - id: s01\n    prompt: 橘猫\n    takes: 2\n  - id: s01.take2\n    prompt: 黑猫\n',
    );
    const message =
      'film.yaml:8:9: error: shot "s01.take2" and shot "s01" (shots[0]) would both write clips/s01.take2.mp4 (a shot with several takes';
    const v = await shotlist(['validate', manifest]);
    expect(v.exitCode, v.stderr).toBe(2);
    expect(v.stderr).toContain(message);
    expect(v.stderr).toContain('fix: rename one of the two shots');
    const run = await shotlist(runArgs(manifest, sim, path.join(tmp.dir, 'out')), {
      env: childEnv,
    });
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toContain(message);
    expect(sim.ledger().submissions).toHaveLength(0);
  });

  it('ids that differ in case only are one file on macOS and Windows, in every variant', async () => {
    const manifest = writeFilm(
      '  - id: Intro\n    prompt: 橘猫\n  - id: intro\n    prompt: 黑猫\n',
    );
    const v = await shotlist(['validate', manifest]);
    expect(v.exitCode, v.stderr).toBe(2);
    expect(v.stderr).toContain(
      'film.yaml:7:9: error: shot "intro" and shot "Intro" (shots[0]) would both write clips/Intro.mp4 and clips/intro.mp4 (one file on macOS and Windows)',
    );
  });

  it("a re-roll of the picks file counts: s01's take 2 and a shot s01.take2 are refused by validate and run", async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0 });
    const manifest = writeFilm(
      '  - id: s01\n    prompt: 橘猫\n  - id: s01.take2\n    prompt: 黑猫\n',
      'version: 1\nrevision: 1\npicks:\n  - { shot: s01, extra_takes: 1 }\n',
    );
    const message =
      'film.yaml:7:5: error: shot "s01.take2" and take 2 of shot "s01" (re-roll, from film.picks.yaml) would both write clips/s01.take2.mp4';
    for (const args of [
      ['validate', manifest],
      runArgs(manifest, sim, path.join(tmp.dir, 'out')),
    ]) {
      const r = await shotlist(args, { env: childEnv });
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('delete extra_takes of the shot in film.picks.yaml');
    }
    expect(sim.ledger().submissions).toHaveLength(0);
  });
});
