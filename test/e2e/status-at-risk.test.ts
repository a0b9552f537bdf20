/**
 * Money that may have been billed stays in view: after `run --retry-unknown` the first
 * submission's outcome is still not known, and status shows it as cost does (built bin,
 * against the simulator).
 */
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-at-risk-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

const cli = (args: string[]) => shotlist(args, { env: childEnv, cwd: tmp.dir });

it('status shows the money that may have been billed after --retry-unknown, the figure cost gives', async () => {
  const manifest = writeManifest(tmp.dir, 1);
  const out = path.join(tmp.dir, 'out');
  // Every POST answers 500: the task may or may not exist, so s01 is unknown.
  sim = await startSimulator({ apiKey: KEY, latency: 0, faults: '500=1', seed: 3 });
  expect((await cli(runArgs(manifest, sim, out))).exitCode).toBe(1);
  const port = Number(new URL(sim.url).port);
  await sim.close();
  sim = await startSimulator({ apiKey: KEY, latency: 0, port, seed: 4 });
  const retried = await cli(runArgs(manifest, sim, out, '--retry-unknown'));
  expect(retried.exitCode, retried.stderr).toBe(0);
  const cost = await cli(['cost', manifest, '--out', out, '--json']);
  const atRisk = (JSON.parse(cost.stdout) as { at_risk: { seconds: number; cost: number } })
    .at_risk;
  expect(atRisk).toEqual({ seconds: 4, cost: 4 });
  const status = await cli(['status', manifest, '--base-url', sim.url, '--out', out]);
  expect(status.exitCode, status.stderr).toBe(0);
  expect(status.stdout).toContain('0 unknown');
  expect(status.stdout).toContain('may have been billed over every run: 4 s · 4.00 CNY');
  const json = await cli(['status', manifest, '--base-url', sim.url, '--out', out, '--json']);
  const doc = JSON.parse(json.stdout) as { unknown: { shots: number }; at_risk: unknown };
  expect(doc.unknown.shots).toBe(0);
  expect(doc.at_risk).toEqual(atRisk);
}, 120_000);
