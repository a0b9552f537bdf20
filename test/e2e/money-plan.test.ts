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

it('run --plan sends exactly the saved bodies; after an edit it sends nothing; once applied, nothing to send', async () => {
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

  // The shots are done now, by this plan: applying it again is progress, not drift.
  const again = await shotlist([...runArgs(manifest, sim, out), '--plan', saved], {
    env: childEnv,
    cwd: tmp.dir,
  });
  expect(again.exitCode, again.stderr).toBe(0);
  expect(again.stdout).toContain('is applied: nothing to send');
  expect(sim.ledger().submissions).toHaveLength(3);
});

it('run --plan refuses a saved plan whose bodies, costs or totals were edited, and runs an untouched one', async () => {
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 9 });
  const manifest = writeManifest(tmp.dir, 2);
  const out = path.join(tmp.dir, 'out');
  const saved = path.join(tmp.dir, 'plan.json');
  const save = await shotlist(
    ['plan', manifest, '--save', saved, '--out', out, '--base-url', sim.url],
    {
      cwd: tmp.dir,
    },
  );
  expect(save.exitCode, save.stderr).toBe(0);
  const original = readFileSync(saved, 'utf8');
  type Saved = {
    totals: { cost: number; seconds: number };
    shots: { label: string; cost: number; request: { prompt: string } }[];
  };
  const edits: [string, (p: Saved) => void, RegExp][] = [
    [
      'a prompt',
      (p) => (p.shots[1]!.request.prompt = 'a calm sea at dawn'),
      /s02: the plan shows a request body the run would not send \("prompt" differ\)/,
    ],
    ['a cost', (p) => (p.shots[0]!.cost = 0.5), /s01: the plan shows cost 0\.5, the run's is 4/],
    ['the totals', (p) => (p.totals.cost = 1), /the plan's total cost is 1, the run's is 8/],
    [
      'a request listed twice',
      (p) => p.shots.push(p.shots[0]!),
      /s01: the plan lists its request twice/,
    ],
    [
      'labels swapped',
      (p) => ([p.shots[0]!.label, p.shots[1]!.label] = [p.shots[1]!.label, p.shots[0]!.label]),
      /s01: the plan shows its request as s02/,
    ],
  ];
  for (const [what, edit, expected] of edits) {
    const plan = JSON.parse(original) as Saved;
    edit(plan);
    writeFileSync(saved, JSON.stringify(plan, null, 2));
    const r = await shotlist([...runArgs(manifest, sim, out), '--plan', saved], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(r.exitCode, what).toBe(2);
    expect(r.stderr, what).toMatch(expected);
    expect(r.stderr, what).toContain('nothing was sent');
    expect(r.stderr, what).toContain('save the plan again');
    expect(sim.ledger().submissions, what).toHaveLength(0);
  }

  // The same plan with its keys reordered and untouched values: what was approved, so it runs.
  const plan = JSON.parse(original) as Saved & Record<string, unknown>;
  const reordered = Object.fromEntries(Object.entries(plan).reverse());
  writeFileSync(saved, JSON.stringify(reordered));
  const run = await shotlist([...runArgs(manifest, sim, out), '--plan', saved], {
    env: childEnv,
    cwd: tmp.dir,
  });
  expect(run.exitCode, run.stderr).toBe(0);
  expect(sim.ledger().submissions.map((s) => s.body)).toEqual(plan.shots.map((s) => s.request));
});
