import path from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;
const outputs: string[] = [];

beforeEach(() => {
  tmp = tempDir('shotlist-unknown-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});
afterAll(() => {
  expect(outputs.join('\n')).not.toContain(KEY);
});

async function cli(args: string[]) {
  const r = await shotlist(args, { env: childEnv, cwd: tmp.dir });
  outputs.push(r.stdout, r.stderr);
  return r;
}

it('status lists unknown shots with the amount, the time and the options; --fail-on unknown makes CI red', async () => {
  const manifest = writeManifest(tmp.dir, 2);
  const out = path.join(tmp.dir, 'out');
  // Every POST answers 500: the task may or may not exist, so s01 is unknown.
  sim = await startSimulator({ apiKey: KEY, latency: 0, faults: '500=1', seed: 3 });
  const before = Date.now();
  const first = await cli(runArgs(manifest, sim, out, '--only', 's01'));
  expect(first.exitCode, first.stderr).toBe(1);
  // The same API again, healthy now (same port, so the same journal keys).
  const port = Number(new URL(sim.url).port);
  await sim.close();
  sim = await startSimulator({ apiKey: KEY, latency: 0, port, seed: 4 });
  const healthy = () => runArgs(manifest, sim!, out, '--only', 's02');

  const plain = await cli(healthy());
  expect(plain.exitCode, plain.stderr).toBe(0);
  const red = await cli([...healthy(), '--fail-on', 'unknown']);
  expect(red.exitCode).toBe(1);
  expect(red.stderr).toContain('1 shot unknown (may have been billed): exit 1 (--fail-on unknown)');
  expect(sim.ledger().totals.submissions).toBe(1);

  const status = await cli(['status', manifest, '--base-url', sim.url, '--out', out]);
  expect(status.stdout).toContain(
    '1 unknown shot: submitted, but whether a task was created (and will be billed) is not known; at risk 4.00 CNY',
  );
  expect(status.stdout).toMatch(
    / {2}s01 {2}4\.00 CNY {2}submitted \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/,
  );
  expect(status.stdout).toContain('run with --retry-unknown to resubmit them (may pay twice)');
  expect(status.stdout).toContain('wait and run again');

  const json = await cli(['status', manifest, '--base-url', sim.url, '--out', out, '--json']);
  const doc = JSON.parse(json.stdout) as {
    unknown: unknown;
    shots: { id: string; state: string; submitted_at: string | null }[];
  };
  expect(doc.unknown).toEqual({ shots: 1, seconds: 4, cost: 4 });
  const s01 = doc.shots.find((s) => s.id === 's01')!;
  expect(s01.state).toBe('unknown');
  expect(Date.parse(s01.submitted_at!)).toBeGreaterThanOrEqual(before - 1000);

  const failOn = await cli([
    'status',
    manifest,
    '--base-url',
    sim.url,
    '--out',
    out,
    '--fail-on',
    'unknown',
  ]);
  expect(failOn.exitCode).toBe(1);
  const bad = await cli(['status', manifest, '--out', out, '--fail-on', 'failed']);
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toContain('use --fail-on unknown');
});
