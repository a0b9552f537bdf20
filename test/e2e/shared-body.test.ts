import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, readReport, runArgs } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-shared-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

it('identical bodies are rendered once and shared: plan, run, status and report agree', async () => {
  const manifest = path.join(tmp.dir, 'twins.yaml');
  writeFileSync(
    manifest,
    `version: 1
name: twins
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
  - { id: s01, prompt: a red kite over the dunes }
  - { id: s02, prompt: a blue boat at dawn }
  - { id: s03, prompt: a red kite over the dunes }
`,
  );
  const plan = await shotlist(['plan', manifest], { cwd: tmp.dir });
  expect(plan.exitCode, plan.stderr).toBe(0);
  expect(plan.stdout).toMatch(/s03 .* 0\.00 CNY +shared with s01/);
  expect(plan.stdout).toContain('total: 3 shots, 8 billable seconds, cost 8.00 CNY');
  const json = JSON.parse(
    (await shotlist(['plan', manifest, '--json'], { cwd: tmp.dir })).stdout,
  ) as { shots: { id: string; cost: number; shared_with?: string }[] };
  expect(json.shots.map((s) => [s.id, s.cost, s.shared_with ?? null])).toEqual([
    ['s01', 4, null],
    ['s02', 4, null],
    ['s03', 0, 's01'],
  ]);

  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 4 });
  const out = path.join(tmp.dir, 'out');
  const run = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
  expect(run.exitCode, run.stderr).toBe(0);
  expect(sim.ledger().totals.submissions).toBe(2);
  expect(sha256(path.join(out, 'clips/s03.mp4'))).toBe(sha256(path.join(out, 'clips/s01.mp4')));
  const report = readReport(out);
  const s03 = report.shots.find((s) => s.id === 's03')!;
  expect(s03).toMatchObject({ status: 'done', cost: 0, shared_with: 's01', file: 'clips/s03.mp4' });
  expect(report.totals.spend?.billed.seconds).toBe(8);

  const status = await shotlist(['status', manifest, '--out', out, '--base-url', sim.url], {
    env: childEnv,
    cwd: tmp.dir,
  });
  expect(status.exitCode).toBe(0);
  expect(status.stdout).toMatch(/s03 .*done \(cached\).*\(shared with s01\)/);
  // A second run sends nothing and keeps both clips.
  const again = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
  expect(again.exitCode, again.stderr).toBe(0);
  expect(sim.ledger().totals.submissions).toBe(2);
});
