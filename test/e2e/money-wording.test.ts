import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { FFMPEG } from '../helpers/tools.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-wording-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

const cli = (args: string[]) => shotlist(args, { env: childEnv, cwd: tmp.dir });

it('unknown shots: said once, their money apart from the new, and the resume that resends them in full', async () => {
  const manifest = writeManifest(tmp.dir, 2);
  const out = path.join(tmp.dir, 'out');
  sim = await startSimulator({ apiKey: KEY, latency: 0, faults: '500=1', seed: 3 });
  const first = await cli(runArgs(manifest, sim, out, '--only', 's01'));
  expect(first.exitCode, first.stderr).toBe(1);
  const said = first.stdout + first.stderr;
  expect(said).toContain('s01: unknown: internal server error');
  expect(said).not.toContain('unknown: unknown:');
  // A plain re-run sends nothing: the advice names --retry-unknown and every flag of the API.
  expect(first.stderr).not.toContain('only the shots not done are sent');
  expect(first.stderr).toContain(
    `1 unknown shot may have been billed; a plain re-run does not send it again. To resubmit (may pay twice): shotlist run ${manifest} --base-url ${sim.url} --out ${out} --only s01 --yes --retry-unknown`,
  );

  const plain = await cli(runArgs(manifest, sim, out, '--only', 's01'));
  expect(plain.stdout).toContain(
    '0 new (0.00 CNY), 1 unknown, not sent (4.00 CNY may have been billed; --retry-unknown resubmits)',
  );
  const retry = await cli(runArgs(manifest, sim, out, '--only', 's01', '--retry-unknown'));
  expect(retry.stdout).toContain('0 new + 1 unknown sent again (4.00 CNY; may pay twice)');
  expect(retry.stdout).not.toMatch(/0 new \(4\.00 CNY\)/);
});

it('a limit from --max-cost is named as the flag; run --help lists exit code 4', async () => {
  const manifest = writeManifest(tmp.dir, 2);
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 3 });
  const r = await cli(runArgs(manifest, sim, path.join(tmp.dir, 'out'), '--max-cost', '5'));
  expect(r.exitCode).toBe(3);
  expect(r.stderr).toContain('cost 8.00 CNY exceeds --max-cost 5.00 CNY');
  expect(r.stderr).not.toContain('budget.max_cost 5');
  expect(sim.ledger().totals.submissions).toBe(0);
  // The manifest's own limit keeps its name.
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('max_cost: 100', 'max_cost: 6'));
  const own = await cli(runArgs(manifest, sim, path.join(tmp.dir, 'out')));
  expect(own.stderr).toContain('exceeds budget.max_cost 6.00 CNY');

  const help = await cli(['run', '--help']);
  expect(help.stdout).toMatch(/4 the API\s+refused the account/);
});

it('Ctrl-C during stitch exits 130 and moves the outdated final aside', async () => {
  const manifest = path.join(tmp.dir, 'promo.yaml');
  const write = (crf: number) =>
    writeFileSync(
      manifest,
      `version: 1
name: promo
defaults: { duration: 4, ratio: "16:9" }
shots:
  - { id: s01, prompt: a lighthouse at dusk }
  - { id: s02, prompt: waves on the rocks }
stitch: { output: final.mp4, transition: { type: fade, duration: 0.5 }, crf: ${crf} }
`,
    );
  write(20);
  const out = path.join(tmp.dir, 'out');
  const args = ['--simulate', '--out', out];
  const made = await shotlist(['run', manifest, ...args, '--sim-latency', '0', '--yes'], {
    cwd: tmp.dir,
  });
  expect(made.exitCode, made.stderr).toBe(0);
  const final = path.join(out, 'final.mp4');
  const before = readFileSync(final);

  // An ffmpeg that stalls on the encode, so the interrupt lands mid-stitch.
  const mark = path.join(tmp.dir, 'encoding');
  const slow = path.join(tmp.dir, 'slow-ffmpeg');
  writeFileSync(
    slow,
    `#!/bin/sh\ncase "$*" in *-crf*) : > '${mark}'; sleep 20 </dev/null >/dev/null 2>&1;; esac\nexec '${FFMPEG}' "$@"\n`,
  );
  chmodSync(slow, 0o755);
  write(24);
  const child = spawnShotlist(['stitch', manifest, ...args], {
    cwd: tmp.dir,
    env: { FFMPEG_PATH: slow },
  });
  while (!existsSync(mark) && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  const ended = await child;
  expect(ended.exitCode, String(ended.stderr)).toBe(130);
  // The old final no longer matches the manifest: it is not left looking current.
  expect(existsSync(final)).toBe(false);
  expect(readFileSync(path.join(out, 'final.stale.mp4')).equals(before)).toBe(true);
  expect(String(ended.stdout)).toContain('moved aside to final.stale.mp4');
});
