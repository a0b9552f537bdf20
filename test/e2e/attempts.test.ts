import path from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, readReport, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;
const outputs: string[] = [];

beforeEach(() => {
  tmp = tempDir('shotlist-attempts-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});
afterAll(() => {
  expect(outputs.join('\n')).not.toContain(KEY);
});

/** Every task the simulator creates ends failed by the content filter. */
const filtering = () => startSimulator({ apiKey: KEY, latency: 0, failRate: 1, seed: 8 });

async function run(args: string[]) {
  const r = await shotlist(args, { env: childEnv, cwd: tmp.dir });
  outputs.push(r.stdout, r.stderr);
  return r;
}

it('a content-filtered shot is submitted at most max_attempts (2) times over three runs; --force sends it again', async () => {
  sim = await filtering();
  const manifest = writeManifest(tmp.dir, 1);
  const out = path.join(tmp.dir, 'out');
  const submissions = () => sim!.ledger().totals.submissions;

  for (const expected of [1, 2, 2]) {
    const r = await run(runArgs(manifest, sim, out));
    expect(r.exitCode, r.stderr).toBe(1);
    expect(submissions()).toBe(expected);
  }
  const third = outputs.at(-2)!;
  expect(third).toContain('1 given up');
  expect(third).toContain(
    '  s01: failed 2 times (content_filter): not submitted again; --force s01 to try again',
  );
  const report = readReport(out);
  expect(report.shots[0]).toMatchObject({ status: 'failed', error: { code: 'max_attempts' } });

  const status = await run(['status', manifest, '--base-url', sim.url, '--out', out]);
  expect(status.stdout).toContain('given up: not submitted again (failed 2 times (content_filter)');
  const json = await run(['status', manifest, '--base-url', sim.url, '--out', out, '--json']);
  expect(JSON.parse(json.stdout)).toMatchObject({
    shots: [{ id: 's01', state: 'gave_up', failures: 2, cost_if_run: 0 }],
  });

  const forced = await run(runArgs(manifest, sim, out, '--force', 's01'));
  expect(forced.exitCode, forced.stderr).toBe(1);
  expect(submissions()).toBe(3);
  await run(runArgs(manifest, sim, out));
  expect(submissions()).toBe(3);
});

it('the manifest sets max_attempts and --max-attempts overrides it', async () => {
  sim = await filtering();
  const manifest = writeManifest(tmp.dir, 1, 'max_attempts: 1\n');
  const out = path.join(tmp.dir, 'out');
  await run(runArgs(manifest, sim, out));
  await run(runArgs(manifest, sim, out));
  expect(sim.ledger().totals.submissions).toBe(1);
  const more = await run(runArgs(manifest, sim, out, '--max-attempts', '2'));
  expect(more.exitCode, more.stderr).toBe(1);
  expect(sim.ledger().totals.submissions).toBe(2);
  const bad = await run(runArgs(manifest, sim, out, '--max-attempts', '0'));
  expect(bad.exitCode).toBe(2);
  expect(sim.ledger().totals.submissions).toBe(2);
});
