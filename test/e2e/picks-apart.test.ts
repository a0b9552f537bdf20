/**
 * A simulated run is an API of its own, and so are its picks: `pick`, `run --reroll`, `stitch`,
 * `status` and `plan` under `--simulate` use `<manifest>.simulated.picks.yaml`, and a rehearsal
 * never changes the takes, marks or extra takes of the real film (built bin, simulator server
 * on loopback as the real API, real ffmpeg).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateTool } from '../../src/media/locate.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv } from './run-helpers.js';

const tmp = tempDir('shotlist-picks-apart-');
let sim: Simulator;
const manifest = path.join(tmp.dir, 'film.yaml');
const realOut = path.join(tmp.dir, 'renders', 'film');
const realPicks = path.join(tmp.dir, 'film.picks.yaml');
const simPicks = path.join(tmp.dir, 'film.simulated.picks.yaml');
const env = { ...childEnv, SHOTLIST_BASE_URL: '', SHOTLIST_ACCOUNTS: '' };

/** The decoded video frames' hashes of a file (ffmpeg framemd5), in order. */
async function frameHashes(file: string): Promise<string[]> {
  const r = await execa(
    locateTool('ffmpeg').path,
    ['-hide_banner', '-v', 'error', '-i', file, '-map', '0:v', '-f', 'framemd5', '-'],
    { reject: true },
  );
  return String(r.stdout)
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(',').at(-1)!.trim());
}

async function ok(args: string[]) {
  const r = await shotlist(args, { cwd: tmp.dir, env });
  expect(r.exitCode, `${args.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
  return r;
}

/** The real final is take 2 of s01 and take 1 of s02, frame for frame. */
async function expectRealFinalOfRealPicks(): Promise<void> {
  const clip = (name: string) => path.join(realOut, 'clips', name);
  expect(await frameHashes(path.join(realOut, 'final.mp4'))).toEqual([
    ...(await frameHashes(clip('s01.take2.mp4'))),
    ...(await frameHashes(clip('s02.take1.mp4'))),
  ]);
}

beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 31 });
  writeFileSync(
    manifest,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p, takes: 2 }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
  - id: s01
    prompt: 橘猫在屋顶上,电影感
  - id: s02
    prompt: 橘猫走进小巷,电影感
`,
  );
  // The real film: rendered against "the API" (a simulator server), take 2 of s01 picked.
  await ok(['run', manifest, '--base-url', sim.url, '--yes', '--no-preflight']);
  await ok(['pick', manifest, '--base-url', sim.url, 's01=2']);
  await ok(['stitch', manifest]);
  await expectRealFinalOfRealPicks();
  // The rehearsal, in its own folder.
  await ok(['run', manifest, '--simulate', '--sim-latency', '0', '--yes']);
}, 300_000);

afterAll(async () => {
  await sim?.close();
  tmp.cleanup();
});

describe('simulated picks live apart from the real ones (built bin)', () => {
  it('a pick under --simulate leaves the real picks and the real final untouched', async () => {
    const before = readFileSync(realPicks, 'utf8');
    const picked = await ok(['pick', manifest, '--simulate', 's01=1', 's02=2']);
    expect(readFileSync(realPicks, 'utf8')).toBe(before);

    // The real stitch keeps the real pick and says nothing is stale.
    const real = await ok(['stitch', manifest]);
    expect(real.stdout).toContain('s01: picked take 2');
    expect(real.stdout + real.stderr).not.toContain('stale');
    await expectRealFinalOfRealPicks();
    const status = await ok(['status', manifest, '--base-url', sim.url]);
    expect(status.stdout + status.stderr).not.toContain('stale');

    // The rehearsal's stitch uses the rehearsal's picks.
    const rehearsal = await ok(['stitch', manifest, '--simulate']);
    expect(rehearsal.stdout).toContain('s02: picked take 2');
    expect(rehearsal.stdout).not.toContain('s01: picked take 2');
    expect(rehearsal.stdout + rehearsal.stderr).not.toContain('stale');
    expect(picked.stdout).toContain('saved in film.simulated.picks.yaml');
    expect(readFileSync(simPicks, 'utf8')).toContain('take: 2');
  }, 300_000);

  it('a simulated re-roll adds no take to the real plan or status', async () => {
    await ok(['pick', manifest, '--simulate', 's02=reroll']);
    const reroll = await ok([
      'run',
      manifest,
      '--simulate',
      '--sim-latency',
      '0',
      '--yes',
      '--reroll',
    ]);
    expect(reroll.stdout + reroll.stderr).toContain('s02#3');
    expect(readFileSync(realPicks, 'utf8')).not.toContain('extra_takes');

    const status = await ok(['status', manifest, '--base-url', sim.url]);
    expect(status.stdout).not.toContain('s02#3');
    expect(status.stdout).toContain('0 to submit (0.00 CNY)');
    const plan = await ok(['plan', manifest, '--base-url', sim.url]);
    expect(plan.stdout).toMatch(/^s02\s+2\s/m);
    expect(plan.stdout).not.toMatch(/^s02\s+3\s/m);
    expect(readFileSync(simPicks, 'utf8')).toContain('extra_takes: 1');
    // The rehearsal sees its own third take.
    const simulated = await ok(['plan', manifest, '--simulate']);
    expect(simulated.stdout).toMatch(/^s02\s+3 \(re-roll, from film\.simulated\.picks\.yaml\)/m);
    // Nothing was sent to the real API beyond the first run's four takes.
    expect(sim.ledger().submissions).toHaveLength(4);
  }, 300_000);

  it('real picks still apply to the real film', async () => {
    await ok(['pick', manifest, '--base-url', sim.url, 's02=2']);
    const real = await ok(['stitch', manifest]);
    expect(real.stdout).toContain('s01: picked take 2');
    expect(real.stdout).toContain('s02: picked take 2');
    const clip = (name: string) => path.join(realOut, 'clips', name);
    expect(await frameHashes(path.join(realOut, 'final.mp4'))).toEqual([
      ...(await frameHashes(clip('s01.take2.mp4'))),
      ...(await frameHashes(clip('s02.take2.mp4'))),
    ]);
  }, 300_000);
});
