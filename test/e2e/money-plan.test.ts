import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-saved-plan-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

it('run --plan sends exactly the saved bodies; after an edit or a run since, it sends nothing', async () => {
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 9 });
  const manifest = writeManifest(tmp.dir, 3);
  const out = path.join(tmp.dir, 'out');
  const saved = path.join(tmp.dir, 'plan.json');
  const where = ['--out', out, '--base-url', sim.url];
  const save = await shotlist(['plan', manifest, '--save', saved, ...where], { cwd: tmp.dir });
  expect(save.exitCode, save.stderr).toBe(0);
  const plan = JSON.parse(readFileSync(saved, 'utf8')) as {
    shots: { request: { prompt: string } }[];
  };
  expect(plan.shots).toHaveLength(3);

  // Edited after the plan was saved: refused, nothing sent.
  const original = readFileSync(manifest, 'utf8');
  writeFileSync(manifest, original.replace('第 2 个镜头', '第 2 个镜头,夜晚'));
  const drifted = await shotlist([...runArgs(manifest, sim, out), '--plan', saved], {
    env: childEnv,
    cwd: tmp.dir,
  });
  expect(drifted.exitCode).toBe(2);
  expect(drifted.stderr).toContain('the manifest was edited');
  expect(drifted.stderr).toContain('nothing was sent');
  expect(sim.ledger().submissions).toHaveLength(0);

  // Unedited: exactly the saved bodies are sent.
  writeFileSync(manifest, original);
  const run = await shotlist([...runArgs(manifest, sim, out), '--plan', saved], {
    env: childEnv,
    cwd: tmp.dir,
  });
  expect(run.exitCode, run.stderr).toBe(0);
  expect(sim.ledger().submissions.map((s) => s.body)).toEqual(plan.shots.map((s) => s.request));

  // The shots are done now: the same plan assumed them new, so it is stale.
  const again = await shotlist([...runArgs(manifest, sim, out), '--plan', saved], {
    env: childEnv,
    cwd: tmp.dir,
  });
  expect(again.exitCode).toBe(2);
  expect(again.stderr).toContain('s01: was new, now cached');
  expect(sim.ledger().submissions).toHaveLength(3);
});
