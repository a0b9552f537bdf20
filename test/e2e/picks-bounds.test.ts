import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-picks-bounds-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

/** Two shots, s01 with two takes; the picks file beside it as given. */
function writeFilm(picks: string): string {
  const manifest = path.join(tmp.dir, 'film.yaml');
  writeFileSync(
    manifest,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
  - id: s01
    prompt: 橘猫
    takes: 2
  - id: s02
    prompt: 黑猫
`,
  );
  writeFileSync(path.join(tmp.dir, 'film.picks.yaml'), picks);
  return manifest;
}

describe('the picks file is bounded (built bin)', () => {
  it("validate checks the simulated takes' picks file too; the real plan does not read it", async () => {
    const manifest = writeFilm('version: 1\nrevision: 0\npicks: []\n');
    writeFileSync(
      path.join(tmp.dir, 'film.simulated.picks.yaml'),
      'version: 1\nrevision: 1\npicks:\n  - shot: s01\n    extra_takes: 9\n',
    );
    const validate = await shotlist(['validate', manifest]);
    expect(validate.exitCode, validate.stderr).toBe(2);
    expect(validate.stderr).toContain(
      'film.simulated.picks.yaml:5:18: error: s01 would have 11 takes (takes: 2 in the manifest, extra_takes: 9)',
    );
    const real = await shotlist(['plan', manifest]);
    expect(real.exitCode, real.stderr).toBe(0);
    const simulated = await shotlist(['plan', manifest, '--simulate']);
    expect(simulated.exitCode).toBe(2);
    expect(simulated.stderr).toContain(
      'film.simulated.picks.yaml:5:18: error: s01 would have 11 takes',
    );
  });

  it('extra_takes beyond the bound is an error at its place in the picks file, at once and with nothing sent', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0 });
    const huge = writeFilm(
      'version: 1\nrevision: 1\npicks:\n  - { shot: s02, extra_takes: 3000000 }\n',
    );
    const plan = await shotlist(['plan', huge]);
    expect(plan.exitCode, plan.stderr).toBe(2);
    expect(plan.stderr).toContain(
      'film.picks.yaml:4:31: error: picks[0].extra_takes is 3000000: a shot has at most 10 takes, re-rolls included',
    );
    expect(plan.stderr).toContain('fix: extra_takes counts the takes run --reroll added');

    // Two takes in the manifest and nine re-rolls: eleven, one too many.
    const nine = writeFilm('version: 1\nrevision: 1\npicks:\n  - shot: s01\n    extra_takes: 9\n');
    const out = path.join(tmp.dir, 'out');
    for (const args of [['plan', nine], runArgs(nine, sim, out), ['status', nine]]) {
      const r = await shotlist(args, { env: childEnv });
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(
        'film.picks.yaml:5:18: error: s01 would have 11 takes (takes: 2 in the manifest, extra_takes: 9); a shot has at most 10',
      );
      expect(r.stderr).toContain('fix: lower extra_takes to 8');
    }
    expect(sim.ledger().submissions).toHaveLength(0);
  });

  it('a picks file larger than a manifest may be is refused before it is read', async () => {
    const entries = Array.from(
      { length: 90_000 },
      (_, i) => `  - { shot: s${i}, note: padding padding padding padding }`,
    );
    const manifest = writeFilm(`version: 1\nrevision: 1\npicks:\n${entries.join('\n')}\n`);
    const r = await shotlist(['plan', manifest]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/film\.picks\.yaml:1:1: error: is 5\.\d MB; the limit is 5 MB/);
  });

  it('the plan and the run preview say which takes are re-rolls from the picks file', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0 });
    const manifest = writeFilm(
      'version: 1\nrevision: 1\npicks:\n  - { shot: s02, extra_takes: 2 }\n',
    );
    const plan = await shotlist(['plan', manifest]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/s02\s+2 \(re-roll, from film\.picks\.yaml\)/);
    expect(plan.stdout).toMatch(/s02\s+3 \(re-roll, from film\.picks\.yaml\)/);
    expect(plan.stdout).toMatch(/s01\s+2\s+text/);
    expect(plan.stdout).toContain('total: 5 shots');
    const dry = await shotlist(
      [...runArgs(manifest, sim, path.join(tmp.dir, 'out')), '--dry-run'],
      {
        env: childEnv,
      },
    );
    expect(dry.exitCode, dry.stderr).toBe(0);
    const run = await shotlist(runArgs(manifest, sim, path.join(tmp.dir, 'out')), {
      env: childEnv,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain('2 takes to send are re-rolls from film.picks.yaml: s02#2, s02#3');
  });
});
