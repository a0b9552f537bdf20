import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, readReport, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-store-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const downloads = (s: Simulator) => s.stats().requests['GET /videos/:file'] ?? 0;

it('editing a shot then reverting it brings the stored clip back: no submission, no download', async () => {
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 3 });
  const manifest = writeManifest(tmp.dir, 2);
  const out = path.join(tmp.dir, 'out');
  const run = () => shotlist(runArgs(manifest, sim!, out), { env: childEnv, cwd: tmp.dir });
  const original = readFileSync(manifest, 'utf8');
  expect((await run()).exitCode).toBe(0);
  const first = sha256(path.join(out, 'clips/s01.mp4'));

  writeFileSync(manifest, original.replace('橘猫的第 1 个镜头', 'A grey cat on a roof at night'));
  expect((await run()).exitCode).toBe(0);
  const edited = sha256(path.join(out, 'clips/s01.mp4'));
  expect(edited).not.toBe(first);

  writeFileSync(manifest, original);
  const submissions = sim.ledger().totals.submissions;
  const fetched = downloads(sim);
  const reverted = await run();
  expect(reverted.exitCode, reverted.stderr).toBe(0);
  expect(sim.ledger().totals.submissions).toBe(submissions);
  expect(downloads(sim)).toBe(fetched);
  expect(sha256(path.join(out, 'clips/s01.mp4'))).toBe(first);
  // Both versions are kept, named by their sha256.
  expect(readdirSync(path.join(out, 'clips/.store')).sort()).toEqual(
    expect.arrayContaining([`${first}.mp4`, `${edited}.mp4`]),
  );

  const report = readReport(out);
  const s01 = report.shots.find((s) => s.id === 's01')!;
  expect(s01.cached).toBe(true);
  expect(s01.versions?.map((v) => [v.sha256, v.current])).toEqual([
    [first, true],
    [edited, false],
  ]);
  expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('2 versions');
  const status = await shotlist(['status', manifest, '--out', out, '--base-url', sim.url], {
    env: childEnv,
    cwd: tmp.dir,
  });
  expect(status.stdout).toMatch(/s01 .*done \(cached\).*\(2 versions kept\)/);
});
